// `npm start` where Electron cannot be had: one plain line says so, and web mode opens instead; a failed download is
// remembered for a day, and the build says one line unless asked for more.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempHome } from '../../helpers/temp-home.ts'

const startScript = fileURLToPath(new URL('../../../scripts/start.js', import.meta.url))
const electronPresent = (() => {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown
    return typeof binary === 'string' && existsSync(binary)
  } catch {
    return false
  }
})()

describe.skipIf(electronPresent)('npm start without Electron', () => {
  it('explains in one line and serves web mode', async () => {
    const home = tempHome()
    const child = spawn('node', [startScript, '--no-open'], {
      env: { ...process.env, BENCHSIDE_HOME: home.dir, BENCHSIDE_NO_ELECTRON_DOWNLOAD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no web address within 60 s:\n${out}`)), 60_000)
        child.stdout.on('data', () => {
          const match = /^Benchside web: (\S+)$/m.exec(out)
          if (!match) return
          clearTimeout(timer)
          resolve(match[1]!)
        })
        child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)))
      })
      expect(out).toMatch(/^The desktop app cannot start here \(Electron could not be downloaded: .+\); opening Benchside in your browser instead\.$/m)
      const page = await fetch(url)
      expect(page.status).toBe(200)
      expect(await page.text()).toMatch(/<div id="app">/)
    } finally {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
      home.remove()
    }
  }, 90_000)

  /** Runs npm start until it prints its web address; returns everything it printed by then. */
  async function startUntilServing(env: Record<string, string>): Promise<string> {
    const child = spawn('node', [startScript, '--no-open'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no web address within 120 s:\n${out}`)), 120_000)
        child.stdout.on('data', () => {
          if (!/^Benchside web: \S+$/m.test(out)) return
          clearTimeout(timer)
          resolve()
        })
        child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)))
      })
      return out
    } finally {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }

  it('builds quietly, remembers a failed download for a day and says how to retry', async () => {
    const home = tempHome()
    const env = {
      BENCHSIDE_HOME: join(home.dir, 'data'),
      BENCHSIDE_NATIVE_DIR: join(home.dir, 'native'),
      // Nothing listens on port 9: the download fails at once, with no cached copy to fall back on.
      ELECTRON_MIRROR: 'http://127.0.0.1:9/',
      electron_config_cache: join(home.dir, 'electron-cache'),
      BENCHSIDE_VERBOSE: '',
    }
    try {
      const first = await startUntilServing(env)
      expect(first).toMatch(/^Building Benchside… done\.$/m)
      expect(first).toMatch(/^Fetching Electron for the desktop app/m)
      expect(first).toMatch(/^npm start will not try the download again before .*\. To try now: npm start -- --retry-download$/m)
      expect(existsSync(join(home.dir, 'native', 'electron-download-failed.json'))).toBe(true)
      // Quiet: none of Vite's per-file lines or plugin timings, a handful of lines before the address.
      expect(first).not.toMatch(/vite v\d|built in|transforming|plugin/i)
      expect(first.trim().split('\n').length).toBeLessThanOrEqual(8)

      const second = await startUntilServing(env)
      expect(second).not.toMatch(/Fetching Electron/)
      expect(second).toMatch(/^The desktop app cannot start here \(Electron could not be downloaded: .+\); opening Benchside in your browser instead\.$/m)
      expect(second).toMatch(/^The download failed at .*; npm start will not try it again before .*\. To try now: npm start -- --retry-download$/m)
    } finally {
      home.remove()
    }
  }, 300_000)
})

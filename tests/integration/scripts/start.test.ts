// `npm start` where Electron cannot be had: one plain line says so, and web mode opens instead.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
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
})

#!/usr/bin/env node
// `npm start`: builds, then opens the desktop app. Electron's binary is fetched on first start (npm install skips it),
// and better-sqlite3 is built once for Electron's ABI into .native/ so npm's Node build (used by tests and the CLI)
// stays untouched. Where Electron cannot be had (no internet), the same app opens in the browser instead; a failed
// download is remembered for a day so later starts do not wait on it again. The build is quiet unless it fails or
// --verbose (or BENCHSIDE_VERBOSE=1) asks for its output.
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sandboxPlan } from './sandbox.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const OWN_FLAGS = ['--verbose', '--retry-download']
const passThrough = process.argv.slice(2).filter((arg) => !OWN_FLAGS.includes(arg))
const verbose = process.argv.includes('--verbose') || ['1', 'true'].includes(process.env.BENCHSIDE_VERBOSE ?? '')
const retryDownload = process.argv.includes('--retry-download')
const quietly = { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] }
/** What start builds and remembers; tests point it elsewhere. */
const nativeDir = process.env.BENCHSIDE_NATIVE_DIR ?? join(root, '.native')
const downloadMemo = join(nativeDir, 'electron-download-failed.json')
const RETRY_AFTER_MS = 24 * 60 * 60 * 1000

/** Runs a command; null when it worked, else the one line of its output that best says why not. */
function step(command, args, options = { cwd: root, stdio: 'inherit' }) {
  const result = spawnSync(command, args, options)
  if (result.status === 0) return null
  const lines = (result.stderr?.toString() ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  return lines.find((l) => /\b(\w*Error|E[A-Z]{4,})\b/.test(l) && !l.startsWith('at ')) ?? lines.at(-1) ?? `exit code ${result.status}`
}

function electronBinary() {
  try {
    const binary = require('electron') // resolves to the binary's path, throws when it was never downloaded
    return typeof binary === 'string' && existsSync(binary) ? binary : null
  } catch {
    return null
  }
}

/** A local date and time a person reads at a glance. */
const localTime = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** The download that failed less than a day ago, if one did: { at, reason }. */
function recentDownloadFailure() {
  try {
    const memo = JSON.parse(readFileSync(downloadMemo, 'utf8'))
    return typeof memo.at === 'number' && Date.now() - memo.at < RETRY_AFTER_MS ? memo : null
  } catch {
    return null
  }
}

/** Fetches Electron: null when it came, else { reason, retry } (retry: when and how it will be tried again). */
function fetchElectron() {
  if (process.env.BENCHSIDE_NO_ELECTRON_DOWNLOAD) return { reason: 'BENCHSIDE_NO_ELECTRON_DOWNLOAD is set', retry: null }
  const retryHow = 'To try now: npm start -- --retry-download'
  const failed = retryDownload ? null : recentDownloadFailure()
  if (failed) {
    const retry = `The download failed at ${localTime(failed.at)}; npm start will not try it again before ${localTime(failed.at + RETRY_AFTER_MS)}. ${retryHow}`
    return { reason: failed.reason, retry }
  }
  console.log('Fetching Electron for the desktop app (once, about 100 MB)…')
  const failure = step(process.execPath, [join(root, 'node_modules/electron/install.js')], quietly)
  if (failure) {
    const at = Date.now()
    mkdirSync(nativeDir, { recursive: true })
    writeFileSync(downloadMemo, JSON.stringify({ at, reason: failure }) + '\n')
    return { reason: failure, retry: `npm start will not try the download again before ${localTime(at + RETRY_AFTER_MS)}. ${retryHow}` }
  }
  rmSync(downloadMemo, { force: true })
  return null
}

/** better-sqlite3 compiled against Electron's headers, kept beside (not inside) node_modules. */
function electronSqliteBinding() {
  const version = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version
  const folder = join(nativeDir, `electron-${version}`, 'better-sqlite3')
  const binding = join(folder, 'build', 'Release', 'better_sqlite3.node')
  if (existsSync(binding)) return { binding }
  console.log(`Building the database driver for Electron ${version} (first start only)…`)
  rmSync(folder, { recursive: true, force: true })
  cpSync(join(root, 'node_modules/better-sqlite3'), folder, { recursive: true, filter: (src) => !src.includes(`${'better-sqlite3'}/build`) })
  const nodeGyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js')
  const args = [nodeGyp, 'rebuild', '--release', '--runtime=electron', `--target=${version}`, '--dist-url=https://electronjs.org/headers']
  const failure = step(process.execPath, args, { ...quietly, cwd: folder })
  return failure ? { failure } : { binding }
}

function startWebMode(reason) {
  console.log(`The desktop app cannot start here (${reason}); opening Benchside in your browser instead.`)
  const web = spawn(process.execPath, [join(root, 'bin/benchside.js'), 'web', ...passThrough], { stdio: 'inherit' })
  web.on('exit', (code) => process.exit(code ?? 0))
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => web.kill(signal))
}

/** Builds the app: its output only when asked (--verbose, BENCHSIDE_VERBOSE=1) or when the build fails. */
function build() {
  const command = [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']
  if (verbose) return spawnSync(process.execPath, command, { cwd: root, stdio: 'inherit' }).status === 0
  process.stdout.write('Building Benchside… ')
  const result = spawnSync(process.execPath, command, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 })
  if (result.status === 0) {
    console.log('done.')
    return true
  }
  console.log('failed:')
  process.stdout.write(result.stdout?.toString() ?? '')
  process.stderr.write(result.stderr?.toString() ?? '')
  return false
}

if (!build()) {
  console.error('Benchside did not build; see the errors above.')
  process.exit(1)
}

let binary = electronBinary()
const fetchFailure = binary ? null : fetchElectron()
binary ??= electronBinary()
if (!binary) {
  startWebMode(`Electron could not be downloaded: ${fetchFailure?.reason ?? 'unknown error'}`)
  if (fetchFailure?.retry) console.log(fetchFailure.retry)
} else {
  const sqlite = electronSqliteBinding()
  const sandbox = sandboxPlan(process.getuid?.(), process.env)
  if (!sqlite.binding) {
    startWebMode(`the database driver could not be built for Electron: ${sqlite.failure}`)
  } else if (sandbox.refused) {
    startWebMode(sandbox.refused)
  } else {
    const app = spawn(binary, [root, ...sandbox.flags, ...passThrough], {
      stdio: 'inherit',
      env: { ...process.env, BENCHSIDE_SQLITE_BINDING: sqlite.binding },
    })
    app.on('exit', (code) => process.exit(code ?? 0))
  }
}

#!/usr/bin/env node
// `npm start`: builds, then opens the desktop app. Electron's binary is fetched on first start (npm install skips it),
// and better-sqlite3 is built once for Electron's ABI into .native/ so npm's Node build (used by tests and the CLI)
// stays untouched. Where Electron cannot be had (no internet), the same app opens in the browser instead.
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sandboxPlan } from './sandbox.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const passThrough = process.argv.slice(2)
const quietly = { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] }

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

function fetchElectron() {
  if (process.env.BENCHSIDE_NO_ELECTRON_DOWNLOAD) return 'BENCHSIDE_NO_ELECTRON_DOWNLOAD is set'
  console.log('Fetching Electron for the desktop app (first start only)…')
  return step(process.execPath, [join(root, 'node_modules/electron/install.js')], quietly)
}

/** better-sqlite3 compiled against Electron's headers, kept beside (not inside) node_modules. */
function electronSqliteBinding() {
  const version = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version
  const folder = join(root, '.native', `electron-${version}`, 'better-sqlite3')
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

const buildFailure = step(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'])
if (buildFailure) {
  console.error('Benchside did not build; see the errors above.')
  process.exit(1)
}

let binary = electronBinary()
const fetchFailure = binary ? null : fetchElectron()
binary ??= electronBinary()
if (!binary) {
  startWebMode(`Electron could not be downloaded: ${fetchFailure ?? 'unknown error'}`)
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

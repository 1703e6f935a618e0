// `benchside doctor` and Devices → This computer: every piece Benchside relies on, checked on this computer, each with
// what it disables when missing and how to fix it. Runs without the store, so it also explains why the core fails.
import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, statSync, statfsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import type { AppInfo, DoctorCheck, DoctorReport } from '../contract/index.ts'
import { ptyPairSupport } from '../hardware/emulator/pty-pair.ts'
import { findProgram } from '../hardware/find-program.ts'
import { appRoot, resourcePath } from '../paths.ts'
import { detectComponent, installCommand, installHint, systemComponent, type SystemComponentId } from './system-components.ts'

export interface DoctorOptions {
  dataDir: string
  host: AppInfo['host']
  /** PATH and the other variables the checks look at; process.env when absent. */
  env?: NodeJS.ProcessEnv
}

const NODE_MINIMUM = [20, 19] as const
const LOW_DISK_BYTES = 2 * 1024 ** 3

const ok = (id: string, label: string, detail: string, core = false): DoctorCheck => ({ id, label, status: 'ok', detail, disables: null, fix: null, core })

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`
}

function checkNode(): DoctorCheck {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  const recent = major > NODE_MINIMUM[0] || (major === NODE_MINIMUM[0] && minor >= NODE_MINIMUM[1])
  const detail = `${process.versions.node}${process.versions.electron ? ` (inside Electron ${process.versions.electron})` : ''}`
  if (recent) return ok('node', 'Node.js', detail, true)
  return {
    id: 'node',
    label: 'Node.js',
    status: 'missing',
    detail: `${detail} is older than ${NODE_MINIMUM.join('.')}, the oldest Benchside runs on`,
    disables: 'Benchside itself',
    fix: `Install Node.js ${NODE_MINIMUM.join('.')} or newer (nodejs.org, or your package manager), then run npm install again.`,
    core: true,
  }
}

const PROGRAM_TIMEOUT_MS = 60_000

/** Runs a program and answers the first line it prints, or why it gave none. */
function firstLine(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ line: string } | { problem: string }> {
  return new Promise((resolve) => {
    let out = ''
    let timedOut = false
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'ignore'], shell: process.platform === 'win32' })
    const timer = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), PROGRAM_TIMEOUT_MS)
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('error', (error) => (clearTimeout(timer), resolve({ problem: `could not be run (${error.message})` })))
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut) resolve({ problem: `did not answer within ${PROGRAM_TIMEOUT_MS / 1000} s` })
      else resolve(code === 0 ? { line: out.trim().split('\n')[0] ?? '' } : { problem: `exited with code ${code}` })
    })
  })
}

async function checkNpm(env: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  const npm = findProgram('npm', env)
  const answer = npm ? await firstLine(npm, ['--version'], env) : null
  if (npm && answer && 'line' in answer) return ok('npm', 'npm', `npm ${answer.line} at ${npm}`)
  return {
    id: 'npm',
    label: 'npm',
    status: 'missing',
    detail: npm && answer && 'problem' in answer ? `${npm} --version ${answer.problem}` : 'npm was not found on PATH',
    disables: "installing and updating Benchside's packages (npm install), npm start and npm test",
    fix: 'Install Node.js with its npm (nodejs.org, or your package manager’s nodejs and npm packages).',
    core: false,
  }
}

async function checkBackend(): Promise<DoctorCheck> {
  const label = 'Compute backend (tfjs)'
  try {
    const { initBackend } = await import('../engine/backend.ts')
    const info = await initBackend()
    const extras = info.name === 'wasm' ? ` (${info.simd ? 'SIMD' : 'no SIMD'}, ${info.threads ?? 1} thread${info.threads === 1 ? '' : 's'})` : ''
    const detail = `${info.name} ${info.version}${extras}`
    if (info.name === 'tensorflow') return ok('tfjs-backend', label, `${detail}: the native TensorFlow backend`, true)
    return {
      id: 'tfjs-backend',
      label,
      status: 'warning',
      detail: `${detail}, because ${info.fallbackReason ?? 'BENCHSIDE_BACKEND asks for it'}`,
      disables: 'nothing, but training, evaluation and sweeps run several times slower than with the native backend',
      fix: !info.fallbackReason
        ? 'Unset BENCHSIDE_BACKEND to let Benchside pick the fastest backend.'
        : info.fallbackReason.includes('not installed')
          ? 'npm install @tensorflow/tfjs-node (downloads libtensorflow, so it needs internet once); Benchside picks it up at the next start.'
          : 'Reinstall it: npm install @tensorflow/tfjs-node (downloads libtensorflow, so it needs internet once).',
      core: true,
    }
  } catch (error) {
    return {
      id: 'tfjs-backend',
      label,
      status: 'missing',
      detail: error instanceof Error ? error.message : String(error),
      disables: 'training, evaluation, sweeps and hardware-in-the-loop jobs',
      fix: "Reinstall Benchside's packages: npm ci (or npm install).",
      core: true,
    }
  }
}

function electronVersion(): string | null {
  try {
    const parsed = z.object({ version: z.string() }).safeParse(JSON.parse(readFileSync(join(appRoot(), 'node_modules', 'electron', 'package.json'), 'utf8')))
    return parsed.success ? parsed.data.version : null
  } catch {
    return null
  }
}

function checkElectron(): DoctorCheck {
  const label = 'Electron (desktop app)'
  if (process.versions.electron) return ok('electron', label, `running in Electron ${process.versions.electron}`)
  const version = electronVersion()
  let binary: string | null = null
  try {
    // The electron package resolves to its binary's path, and throws when the binary was never downloaded.
    const resolved: unknown = createRequire(join(appRoot(), 'package.json'))('electron')
    binary = typeof resolved === 'string' && existsSync(resolved) ? resolved : null
  } catch {
    binary = null
  }
  if (binary) return ok('electron', label, `Electron ${version ?? '?'} at ${binary}`)
  return {
    id: 'electron',
    label,
    status: 'missing',
    detail: version ? `the electron ${version} package is installed, but its binary was not downloaded` : 'the electron package is not installed',
    disables: 'the desktop app (npm start opens the same app in your browser instead)',
    fix: 'npm start downloads it on first start (needs internet once); or run node node_modules/electron/install.js.',
    core: false,
  }
}

async function checkSqliteNode(host: AppInfo['host']): Promise<DoctorCheck> {
  const label = 'Database driver for Node'
  const id = 'sqlite-node'
  const fix = 'npm rebuild better-sqlite3 (without a prebuilt download it compiles, which needs a C++ compiler, make and Python).'
  const disables = 'the command line, web mode and the tests (nothing can store or read runs)'
  if (process.versions.electron) {
    const file = join(appRoot(), 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')
    return existsSync(file)
      ? ok(id, label, `built at ${file} (the desktop app uses its own copy)`)
      : { id, label, status: 'missing', detail: `${file} does not exist`, disables, fix, core: false }
  }
  try {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(':memory:')
    try {
      const { version } = db.prepare('select sqlite_version() as version').get() as { version: string }
      return ok(id, label, `better-sqlite3 with SQLite ${version}, built for Node's ABI ${process.versions.modules}`, host !== 'desktop')
    } finally {
      db.close()
    }
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!
    return { id, label, status: 'missing', detail: `better-sqlite3 did not load: ${message}`, disables, fix, core: host !== 'desktop' }
  }
}

function checkSqliteElectron(env: NodeJS.ProcessEnv): DoctorCheck {
  const label = 'Database driver for Electron'
  const id = 'sqlite-electron'
  if (process.versions.electron)
    return ok(id, label, `loaded in Electron ${process.versions.electron}${env.BENCHSIDE_SQLITE_BINDING ? ` from ${env.BENCHSIDE_SQLITE_BINDING}` : ''}`, true)
  const version = electronVersion()
  const file = version ? join(appRoot(), '.native', `electron-${version}`, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node') : null
  if (file && existsSync(file)) return ok(id, label, `built for Electron ${version} at ${file}`)
  return {
    id,
    label,
    status: 'missing',
    detail: file ? `not built yet (${file})` : 'the electron package is not installed',
    disables: 'the desktop app (npm start opens web mode instead); the command line and web mode use the Node build',
    fix: "npm start builds it on first start (needs Electron's headers from the internet once).",
    core: false,
  }
}

/** A system package's line: ok with where it was found, else missing with what it is needed for and how to install it. */
function componentCheck(id: SystemComponentId, env: NodeJS.ProcessEnv, extra?: { label?: string; disables?: string }): DoctorCheck {
  const component = systemComponent(id)
  const presence = detectComponent(id, env)
  const label = extra?.label ?? component.label
  if (presence.present) return ok(id, label, presence.detail)
  const hint = installHint(id)
  return {
    id,
    label,
    status: 'missing',
    detail: presence.detail,
    disables: extra?.disables ?? component.neededFor,
    fix: hint ?? `No package provides it on ${process.platform}; see docs/doctor.md.`,
    core: false,
  }
}

function checkPty(env: NodeJS.ProcessEnv): DoctorCheck {
  const support = ptyPairSupport({ env })
  const label = 'PTY pair for the demo board'
  if (support.kind) return ok('pty', label, support.detail)
  const hints = process.platform === 'win32' ? null : [installHint('cc'), installHint('socat')].filter(Boolean).join(', or ')
  return {
    id: 'pty',
    label,
    status: 'missing',
    detail: support.problem ?? support.detail,
    disables: 'the demo board (the emulated analog board) and its tests',
    fix: hints || 'Connect a real analog board on a serial port instead.',
    core: false,
  }
}

function checkDatasets(): DoctorCheck {
  const subset = resourcePath('datasets', 'fashion-mnist-subset')
  const keywords = resourcePath('datasets', 'keywords.npz')
  const missing = [subset, keywords].filter((path) => !existsSync(path))
  if (missing.length === 0) return ok('datasets', 'Shipped datasets', 'the Fashion-MNIST subset and the spoken keywords are in resources/datasets', true)
  return {
    id: 'datasets',
    label: 'Shipped datasets',
    status: 'missing',
    detail: `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
    disables: 'training and evaluating on the built-in datasets',
    fix: 'The installation is incomplete: check out or unpack Benchside again (git checkout -- resources/datasets).',
    core: true,
  }
}

/** The folder itself when it exists, else the nearest parent that does (where it would be created). */
function nearestExisting(folder: string): string {
  let at = folder
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at)
  return at
}

function checkDataDir(dataDir: string): DoctorCheck {
  const label = 'Data folder'
  const exists = existsSync(dataDir)
  const at = nearestExisting(dataDir)
  if (!statSync(at).isDirectory()) {
    return {
      id: 'data-dir',
      label,
      status: 'missing',
      detail: exists ? `${dataDir} is a file, not a folder` : `${dataDir} cannot be created: ${at} is a file, not a folder`,
      disables: 'storing runs, models and settings',
      fix: 'Set BENCHSIDE_HOME to a folder you can write (or unset it to use the default folder).',
      core: true,
    }
  }
  try {
    accessSync(at, constants.W_OK)
  } catch {
    return {
      id: 'data-dir',
      label,
      status: 'missing',
      detail: exists ? `${dataDir} is not writable by this user` : `${dataDir} cannot be created: ${at} is not writable by this user`,
      disables: 'storing runs, models and settings',
      fix: exists
        ? `Make it yours (chown -R "$USER" '${dataDir}') or set BENCHSIDE_HOME to a folder you can write.`
        : 'Set BENCHSIDE_HOME to a folder you can write.',
      core: true,
    }
  }
  if (!exists) return ok('data-dir', label, `${dataDir} (created at the first start)`, true)
  const mode = statSync(dataDir).mode & 0o777
  const detail = `${dataDir} (writable, mode ${mode.toString(8).padStart(3, '0')})`
  if (process.platform !== 'win32' && (mode & 0o002) !== 0) {
    return {
      id: 'data-dir',
      label,
      status: 'warning',
      detail: `${detail}: every user of this computer can change it`,
      disables: 'nothing, but others can alter your runs and models',
      fix: `chmod o-w '${dataDir}'`,
      core: true,
    }
  }
  return ok('data-dir', label, detail, true)
}

function checkDisk(dataDir: string): DoctorCheck {
  const at = nearestExisting(dataDir)
  try {
    const stats = statfsSync(at)
    const free = stats.bavail * stats.bsize
    const detail = `${gib(free)} free on the data folder's disk`
    if (free >= LOW_DISK_BYTES) return ok('disk', 'Disk space', detail)
    return {
      id: 'disk',
      label: 'Disk space',
      status: 'warning',
      detail,
      disables: 'nothing yet, but model files, sweeps and datasets may not fit',
      fix: `Free space on that disk, or set BENCHSIDE_HOME to a folder on a disk with at least ${gib(LOW_DISK_BYTES)} free.`,
      core: false,
    }
  } catch (error) {
    return {
      id: 'disk',
      label: 'Disk space',
      status: 'warning',
      detail: `could not be measured at ${at}: ${error instanceof Error ? error.message : String(error)}`,
      disables: 'nothing',
      fix: 'Check the disk yourself (df -h).',
      core: false,
    }
  }
}

/** Every check, in the order people read them: the core first, then the optional pieces. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const env = options.env ?? process.env
  const [npm, backend, sqliteNode] = await Promise.all([checkNpm(env), checkBackend(), checkSqliteNode(options.host)])
  const checks: DoctorCheck[] = [
    checkNode(),
    sqliteNode,
    checkDataDir(options.dataDir),
    checkDatasets(),
    backend,
    npm,
    checkDisk(options.dataDir),
    checkElectron(),
    checkSqliteElectron(env),
    componentCheck('cc', env, { label: 'C compiler for the board agent' }),
    checkPty(env),
    componentCheck('socat', env),
    componentCheck('sshd', env),
    componentCheck('ssh-keygen', env),
    componentCheck('chromium', env, { label: 'Chromium for the browser tests' }),
    componentCheck('espeak-ng', env),
    componentCheck('fashion-mnist', env),
    componentCheck('slurm-client', env),
    componentCheck('slurm-daemons', env),
  ]
  const coreWorks = checks.every((check) => !check.core || check.status !== 'missing')
  return { checks, coreWorks, installCommand: installCommand() }
}

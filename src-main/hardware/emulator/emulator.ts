// Starts an emulated analog board: a PTY pair (Benchside's helper, else socat), the emulator process serves one end,
// the host opens the other. Used by tests, the app's demo board and benchmarks.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openPtyPair, tail, waitForLine, type PtyPair, type PtyPairChoice, type PtyPairKind } from './pty-pair.ts'

export interface EmulatorOptions {
  seed?: number
  /** Paces the emulated link to this UART rate (10 bits per byte); unpaced when absent. */
  baud?: number
  /** Where the PTY links go; default a fresh temp dir. */
  dir?: string
  /** What makes the PTY pair: 'auto' (the default) is Benchside's helper, else socat. */
  pty?: PtyPairChoice
  /** Where the PTY helper is built; the user's cache folder when absent. */
  cacheDir?: string
}

export interface RunningEmulator {
  /** The host-side PTY path to open with serialport (a symlink to the pair's first end). */
  readonly path: string
  readonly deviceId: string
  /** What made the PTY pair. */
  readonly pty: PtyPairKind
  /** Kills only the emulator process (a firmware crash or unplug); the PTY pair stays. */
  kill(signal?: NodeJS.Signals): void
  /** A new emulator process (same seed) on the same PTY. */
  restart(): Promise<void>
  /** Kills the emulator and the PTY pair, removes the temp dir. */
  stop(): Promise<void>
}

const STOP_TIMEOUT_MS = 3_000

/** Every child still running and every link folder to remove: handled when this process exits, so none outlives a test run. */
const running = new Set<ChildProcess>()
const folders = new Set<() => void>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL')
    for (const remove of folders) remove()
  })
}

function track(child: ChildProcess): void {
  installExitHook()
  running.add(child)
  child.once('exit', () => running.delete(child))
}

/** The emulator entry next to this file: .ts under tsx/vitest, .js in a build. */
function emulatorEntry(): { file: string; execArgv: string[] } {
  const isTypeScript = import.meta.url.endsWith('.ts')
  const file = fileURLToPath(new URL(isTypeScript ? './emulator-process.ts' : './emulator-process.js', import.meta.url))
  return { file, execArgv: isTypeScript ? ['--import', import.meta.resolve('tsx')] : [] }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** Sends `signal`, then SIGKILL if the child has not exited in time; resolves once it has. */
async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.pid === undefined || exited(child)) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await gone
  clearTimeout(timer)
}

function startEmulatorProcess(device: string, seed: number, baud: number | undefined): { child: ChildProcess; ready: Promise<string> } {
  const { file, execArgv } = emulatorEntry()
  const args = [...execArgv, file, '--device', device, '--seed', String(seed), ...(baud === undefined ? [] : ['--baud', String(baud)])]
  const env = process.versions.electron ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : process.env
  // stdin stays an open pipe: the emulator exits when it closes, i.e. when this process is gone.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env })
  track(child)
  const log = tail(child.stderr)
  const ready = waitForLine(child, child.stdout as NodeJS.ReadableStream, /^READY (\S+)$/m, 'board emulator', log).then((match) => {
    const deviceId = match[1]
    if (deviceId === undefined) throw new Error('The board emulator said READY without its device id.')
    return deviceId
  })
  return { child, ready }
}

/** Lets this process exit while the children run; the exit hook or stop() ends them. */
function unref(child: ChildProcess): void {
  child.unref()
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.()
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const seed = options.seed ?? 1
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`The emulator seed must be an integer from 0 to 4294967295, got ${seed}.`)
  const { baud } = options
  if (baud !== undefined && !(Number.isFinite(baud) && baud > 0)) throw new Error(`The emulator baud rate must be a positive number, got ${baud}.`)
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'benchside-emulator-'))
  if (!ownDir) mkdirSync(dir, { recursive: true })
  const hostPath = join(dir, 'host')
  const devicePath = join(dir, 'device')
  // Stale links from an earlier run would make the pair fail (existsSync misses dangling ones, rmSync does not).
  for (const link of [hostPath, devicePath]) rmSync(link, { force: true })

  const removeLinks = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true })
    else for (const link of [hostPath, devicePath]) rmSync(link, { force: true })
  }
  installExitHook()
  folders.add(removeLinks)
  const cleanUp = () => {
    folders.delete(removeLinks)
    removeLinks()
  }
  let pair: PtyPair | null = null
  let emulator: ChildProcess | null = null
  const stopAll = () => Promise.all([emulator ? terminate(emulator) : Promise.resolve(), pair ? terminate(pair.child) : Promise.resolve()])
  try {
    pair = await openPtyPair(hostPath, devicePath, { choice: options.pty, cacheDir: options.cacheDir, track })
    const started = startEmulatorProcess(devicePath, seed, baud)
    emulator = started.child
    const deviceId = await started.ready
    unref(pair.child)
    unref(started.child)
    const ptyPair = pair

    return {
      path: hostPath,
      deviceId,
      pty: ptyPair.kind,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (emulator && !exited(emulator)) emulator.kill(signal)
      },
      async restart() {
        if (emulator) await terminate(emulator)
        // What the host sent to the dead board must not reach the new one.
        await ptyPair.flush()
        const next = startEmulatorProcess(devicePath, seed, baud)
        emulator = next.child
        await next.ready
        unref(next.child)
      },
      async stop() {
        await stopAll()
        cleanUp()
      },
    }
  } catch (error) {
    await stopAll()
    cleanUp()
    throw error
  }
}

// The pseudo-terminal pair between Benchside and the demo board's emulator: Benchside's own helper (resources/pty-pair,
// compiled on first use into a cache folder, one build per source hash), else socat. Neither on Windows.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { resourcePath } from '../../paths.ts'
import { findProgram } from '../find-program.ts'

export type PtyPairKind = 'helper' | 'socat'
/** 'auto' takes the helper (built when needed) and falls back to socat. */
export type PtyPairChoice = 'auto' | PtyPairKind

export interface PtyPairOptions {
  choice?: PtyPairChoice
  /** Where the helper is built; defaultCacheDir() when absent. */
  cacheDir?: string
  /** PATH (and CC) to find the compiler and socat with; process.env when absent. */
  env?: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
  /** Called with every child process started, so the caller can end them all when it exits. */
  track?: (child: ChildProcess) => void
}

export interface PtyPair {
  readonly kind: PtyPairKind
  /** The helper or socat; the pair lives as long as it runs. */
  readonly child: ChildProcess
  /** Discards bytes still waiting for the device end, as a rebooted board starts with an empty receive buffer (socat: nothing). */
  flush(): Promise<void>
}

export const HELPER_BINARY = 'benchside-pty-pair'
const HELPER_FLAGS = ['-O2']
const START_TIMEOUT_MS = 20_000
const BUILD_TIMEOUT_MS = 120_000
const FLUSH_TIMEOUT_MS = 5_000
const SETPRIV = '/usr/bin/setpriv'

export const NO_PTY_ON_WINDOWS =
  'The demo board is not available on Windows: its emulator needs a pseudo-terminal pair, which only Linux and macOS provide; connect a real analog board instead.'
export const NO_PTY_PAIR =
  "The demo board needs a pseudo-terminal pair, and this computer has neither a C compiler (cc) to build Benchside's PTY helper nor socat; " +
  'install one of them (Debian/Ubuntu: sudo apt-get install gcc libc6-dev; macOS: xcode-select --install; or socat) and connect again.'

/** Benchside's cache folder for things it builds itself (the data folder holds only what users make). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'Benchside')
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Benchside', 'Cache')
  const xdg = env.XDG_CACHE_HOME
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'benchside')
}

export interface HelperSource {
  file: string
  /** Hash of the source and the compiler flags: each version is built once, into its own folder. */
  version: string
}

export function helperSource(): HelperSource {
  const file = resourcePath('pty-pair', 'pty-pair.c')
  let source: Buffer
  try {
    source = readFileSync(file)
  } catch {
    throw new Error(`The PTY helper's source ${file} is missing; the Benchside installation is incomplete.`)
  }
  const version = createHash('sha256').update(source).update('\0').update(HELPER_FLAGS.join(' ')).digest('hex').slice(0, 16)
  return { file, version }
}

export function helperBinaryPath(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, 'pty-pair', helperSource().version, HELPER_BINARY)
}

function compilerName(env: NodeJS.ProcessEnv): string {
  return env.CC?.trim() || 'cc'
}

export interface PtyPairSupport {
  /** What openPtyPair would use here, or null when nothing can make a pair. */
  kind: PtyPairKind | null
  /** What provides the pair, in words, with paths. */
  detail: string
  /** Why there is no pair, in one sentence saying what to do; null when there is one. */
  problem: string | null
}

/** What would provide the pair on this computer, without building or starting anything (the doctor and the tests ask). */
export function ptyPairSupport(options: PtyPairOptions = {}): PtyPairSupport {
  const env = options.env ?? process.env
  const choice = options.choice ?? 'auto'
  if ((options.platform ?? process.platform) === 'win32') return { kind: null, detail: 'Windows has no pseudo-terminals', problem: NO_PTY_ON_WINDOWS }
  if (choice !== 'socat') {
    const binary = helperBinaryPath(options.cacheDir)
    if (existsSync(binary)) return { kind: 'helper', detail: `Benchside's PTY helper, built at ${binary}`, problem: null }
    const compiler = findProgram(compilerName(env), env)
    if (compiler) return { kind: 'helper', detail: `Benchside's PTY helper, to be built with ${compiler} into ${binary} on first use`, problem: null }
  }
  if (choice !== 'helper') {
    const socat = findProgram('socat', env)
    if (socat) return { kind: 'socat', detail: `socat at ${socat}`, problem: null }
  }
  if (choice === 'helper')
    return { kind: null, detail: 'no C compiler', problem: `Benchside's PTY helper cannot be built: no C compiler '${compilerName(env)}' was found on PATH.` }
  if (choice === 'socat')
    return { kind: null, detail: 'no socat', problem: 'socat was not found on PATH (Debian/Ubuntu: sudo apt-get install socat; macOS: brew install socat).' }
  return { kind: null, detail: 'neither a C compiler nor socat', problem: NO_PTY_PAIR }
}

const builds = new Map<string, Promise<string>>()

/** Compiles the helper unless this version is built already; resolves with the binary's path. */
export function buildPtyHelper(options: Pick<PtyPairOptions, 'cacheDir' | 'env' | 'track'> = {}): Promise<string> {
  const binary = helperBinaryPath(options.cacheDir)
  let build = builds.get(binary)
  if (!build) {
    build = compileHelper(binary, options).finally(() => builds.delete(binary))
    builds.set(binary, build)
  }
  return build
}

async function compileHelper(binary: string, options: Pick<PtyPairOptions, 'env' | 'track'>): Promise<string> {
  if (existsSync(binary)) return binary
  const env = options.env ?? process.env
  const compiler = findProgram(compilerName(env), env)
  if (!compiler) throw new Error(`Benchside's PTY helper cannot be built: no C compiler '${compilerName(env)}' was found on PATH.`)
  const { file } = helperSource()
  const folder = join(binary, '..')
  mkdirSync(folder, { recursive: true })
  // Built under a private name and renamed: another process building the same version at once never sees half a file.
  const partial = `${binary}.${process.pid}.tmp`
  const child = spawn(compiler, [...HELPER_FLAGS, '-o', partial, file], { cwd: folder, env, stdio: ['ignore', 'ignore', 'pipe'] })
  options.track?.(child)
  const log = tail(child.stderr)
  const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS)
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => resolve({ code, signal }))
    })
    if (exit.code !== 0 || !existsSync(partial)) {
      const why = exit.signal
        ? `it did not finish within ${BUILD_TIMEOUT_MS / 1000} s`
        : log().trim().split('\n').slice(0, 4).join(' ') || `exit code ${exit.code}`
      throw new Error(`Benchside's PTY helper did not compile with ${compiler}: ${why.replace(/\.$/, '')}.`)
    }
    renameSync(partial, binary)
    return binary
  } finally {
    clearTimeout(timer)
    rmSync(partial, { force: true })
  }
}

/** Keeps the last few kilobytes a child wrote, for error messages. */
export function tail(stream: NodeJS.ReadableStream | null): () => string {
  let text = ''
  stream?.on('data', (chunk: Buffer | string) => {
    text = (text + chunk.toString()).slice(-4000)
  })
  return () => text
}

/** Resolves with the first stream line matching `pattern`; rejects if the child exits first or time runs out. */
export function waitForLine(
  child: ChildProcess,
  stream: NodeJS.ReadableStream,
  pattern: RegExp,
  what: string,
  log: () => string,
  timeoutMs = START_TIMEOUT_MS,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const finish = (error: Error | null, match?: RegExpMatchArray) => {
      clearTimeout(timer)
      stream.off('data', onData)
      child.off('exit', onExit)
      if (error) reject(error)
      else resolve(match as RegExpMatchArray)
    }
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString()
      const match = buffered.match(pattern)
      if (match) finish(null, match)
    }
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`The ${what} exited (${signal ?? `code ${code}`}) before it was ready: ${log().trim() || 'no output'}`))
    const timer = setTimeout(() => finish(new Error(`The ${what} was not ready after ${timeoutMs / 1000} s: ${log().trim() || 'no output'}`)), timeoutMs)
    stream.on('data', onData)
    child.on('exit', onExit)
  })
}

function spawned(child: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', (error) => reject(new Error(`${what} could not be started (${error.message}).`)))
  })
}

function setRef(stream: unknown, on: boolean): void {
  const handle = stream as { ref?: () => void; unref?: () => void } | null
  if (on) handle?.ref?.()
  else handle?.unref?.()
}

async function startHelper(hostPath: string, devicePath: string, options: PtyPairOptions): Promise<PtyPair> {
  const binary = await buildPtyHelper(options)
  // stdin stays an open pipe: the helper exits when it closes, i.e. when this process is gone.
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] })
  options.track?.(child)
  // A helper that died answers a flush with EPIPE; its exit is what tells.
  child.stdin!.on('error', () => {})
  const log = tail(child.stderr)
  try {
    await spawned(child, "Benchside's PTY helper")
    const [, hostPty, devicePty] = await waitForLine(child, child.stdout!, /^PTYS (\S+) (\S+)$/m, 'PTY helper', log)
    symlinkSync(hostPty!, hostPath)
    symlinkSync(devicePty!, devicePath)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  let flushing: Promise<void> = Promise.resolve()
  const flushOnce = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    setRef(child.stdout, true)
    try {
      const done = waitForLine(child, child.stdout!, /^flushed$/m, 'PTY helper', log, FLUSH_TIMEOUT_MS)
      child.stdin!.write('flush\n')
      await done
    } finally {
      setRef(child.stdout, false)
    }
  }
  return {
    kind: 'helper',
    child,
    flush() {
      flushing = flushing.catch(() => {}).then(flushOnce)
      return flushing
    },
  }
}

async function startSocat(hostPath: string, devicePath: string, options: PtyPairOptions): Promise<PtyPair> {
  const args = ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`]
  const env = options.env ?? process.env
  const socat = findProgram('socat', env) ?? 'socat'
  // setpriv's parent-death signal ends socat even when this process is killed without running exit hooks.
  const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', socat, ...args]] : [socat, args]
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], env })
  options.track?.(child)
  const log = tail(child.stderr)
  try {
    await spawned(child, 'socat')
    await waitForLine(child, child.stderr!, /starting data transfer loop/, 'PTY pair (socat)', log)
    if (!existsSync(hostPath) || !existsSync(devicePath)) throw new Error(`socat did not create ${hostPath} and ${devicePath}: ${log()}`)
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message} The board emulator's socat fallback needs socat (Debian/Ubuntu: sudo apt-get install socat).`)
  }
  return { kind: 'socat', child, flush: async () => {} }
}

/** Makes a connected PTY pair with `hostPath` and `devicePath` linking to its two ends. */
export async function openPtyPair(hostPath: string, devicePath: string, options: PtyPairOptions = {}): Promise<PtyPair> {
  const support = ptyPairSupport(options)
  if (support.kind === null) throw new Error(support.problem ?? NO_PTY_PAIR)
  if (support.kind === 'socat') return startSocat(hostPath, devicePath, options)
  try {
    return await startHelper(hostPath, devicePath, options)
  } catch (error) {
    for (const link of [hostPath, devicePath]) rmSync(link, { force: true })
    if ((options.choice ?? 'auto') === 'auto' && findProgram('socat', options.env ?? process.env)) return startSocat(hostPath, devicePath, options)
    throw error
  }
}

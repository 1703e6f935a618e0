// The computer Benchside runs on as a board: compiles the agent once per version under <dataDir>/board-agent/<version>/
// and runs it as a child process with a timeout. The default board when none is configured.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { agentInput, cancelledError, parseAgentOutput, timeoutError, toBoardInfo, type AgentExit } from './agent-answer.ts'
import { AGENT_BINARY, BUILD_SCRIPT, compileError, loadAgentSource, type AgentSource } from './agent-source.ts'
import {
  BoardError,
  capabilitiesOf,
  onceInfo,
  type AgentAnswer,
  type AgentArgs,
  type AgentOperation,
  type Board,
  type BoardCapabilities,
  type RunOptions,
} from './board.ts'

export const LOCAL_BOARD_ID = 'local'

export interface LocalBoardOptions {
  /** Benchside's data folder; the agent is compiled into <dataDir>/board-agent/<version>/. */
  dataDir: string
  id?: string
  /** Where the agent's C sources are; defaults to resources/board-agent. */
  sourceDir?: string
  /** The C compiler; defaults to $CC, else cc. */
  compiler?: string
  defaultTimeoutMs?: number
  compileTimeoutMs?: number
}

const MAX_OUTPUT = 16 * 1024 * 1024

interface Spawned {
  child: ChildProcess
  done: Promise<AgentExit>
}

function spawnCollect(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string }): Spawned {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] })
  const done = new Promise<AgentExit>((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d
    })
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }))
  })
  // The agent may exit before reading stdin (a refused argument); that EPIPE is not the error to report.
  child.stdin!.on('error', () => {})
  child.stdin!.end(options.input ?? '')
  return { child, done }
}

export class LocalBoard implements Board {
  readonly kind = 'local' as const
  readonly id: string
  readonly agentDir: string
  private readonly source: AgentSource
  private readonly compiler: string
  private readonly label = `this computer (${hostname()})`
  private readonly children = new Set<ChildProcess>()
  private binary: Promise<string> | null = null
  private closed = false

  constructor(private readonly options: LocalBoardOptions) {
    this.id = options.id ?? LOCAL_BOARD_ID
    this.source = loadAgentSource(options.sourceDir)
    this.compiler = options.compiler ?? process.env.CC ?? 'cc'
    this.agentDir = join(options.dataDir, 'board-agent', this.source.version)
  }

  get agentVersion(): string {
    return this.source.version
  }

  /** Compiles the agent unless this version is already built; returns the binary's path. */
  ensureAgent(): Promise<string> {
    this.binary ??= this.compile().catch((error: unknown) => {
      this.binary = null
      throw error
    })
    return this.binary
  }

  private async compile(): Promise<string> {
    const binary = join(this.agentDir, AGENT_BINARY)
    if (existsSync(binary)) return binary
    mkdirSync(this.agentDir, { recursive: true })
    for (const file of this.source.files) writeFileSync(join(this.agentDir, file.name), file.content)
    const build = spawnCollect('sh', [join(this.agentDir, BUILD_SCRIPT)], {
      cwd: this.agentDir,
      env: { ...process.env, CC: this.compiler },
    })
    this.children.add(build.child)
    const timeoutMs = this.options.compileTimeoutMs ?? 300_000
    const timer = setTimeout(() => build.child.kill('SIGKILL'), timeoutMs)
    try {
      const exit = await build.done
      if (exit.signal) {
        throw new BoardError('COMPILE', `Compiling the board agent on ${this.label} did not finish within ${timeoutMs / 1000} s and was stopped.`)
      }
      if (exit.code !== 0 || !existsSync(binary)) throw compileError(this.label, this.compiler, exit.code, exit.stderr)
      return binary
    } finally {
      clearTimeout(timer)
      this.children.delete(build.child)
    }
  }

  readonly info = onceInfo(async () => toBoardInfo(await this.run('info'), this.id, this.kind, this.label))

  async capabilities(): Promise<BoardCapabilities> {
    return capabilitiesOf(await this.info())
  }

  async run(operation: AgentOperation, args: AgentArgs = {}, options: RunOptions = {}): Promise<AgentAnswer> {
    if (this.closed) throw new BoardError('AGENT', `The board ${this.id} was closed; open it again to run '${operation}'.`)
    const input = agentInput(operation, args)
    const binary = await this.ensureAgent()
    if (options.signal?.aborted) throw cancelledError(operation, this.label)
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 300_000
    const run = spawnCollect(binary, [], { input })
    this.children.add(run.child)
    let stopped: BoardError | null = null
    const stop = (error: BoardError) => {
      stopped ??= error
      run.child.kill('SIGKILL')
    }
    const timer = setTimeout(() => stop(timeoutError(operation, this.label, timeoutMs)), timeoutMs)
    const onAbort = () => stop(cancelledError(operation, this.label))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const exit = await run.done
      if (stopped) throw stopped
      return parseAgentOutput(exit, operation, this.label)
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      this.children.delete(run.child)
    }
  }

  /** Process ids of agent and compiler processes still running (tests use it to prove a stop really killed them). */
  runningPids(): number[] {
    return [...this.children].map((c) => c.pid).filter((p): p is number => p !== undefined)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const child of this.children) child.kill('SIGKILL')
    this.children.clear()
  }
}

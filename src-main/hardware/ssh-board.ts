// An ARM (or any POSIX) board reached over SSH with ssh2: host keys trusted on first use, the agent uploaded over SFTP
// into ~/.benchside/agent/<version>/, compiled there once per version, and run with a timeout that kills the remote process.
import { posix } from 'node:path'
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2'
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
import { hostId, type KnownHosts } from './known-hosts.ts'
import { connectSsh, shellQuote, type HostKeyStatus, type SshHostSettings } from './ssh-connect.ts'

export { shellQuote, type HostKeyStatus, type SshHostSettings } from './ssh-connect.ts'

export interface SshBoardOptions extends SshHostSettings {
  id?: string
  knownHosts: KnownHosts
  sourceDir?: string
  compiler?: string
  /** Where agent versions live on the board, relative to the login folder unless absolute. */
  remoteRoot?: string
  connectTimeoutMs?: number
  defaultTimeoutMs?: number
  compileTimeoutMs?: number
}

const MAX_OUTPUT = 16 * 1024 * 1024

interface ExecHandle {
  channel: ClientChannel
  done: Promise<AgentExit>
  /** What the command wrote to stderr so far. */
  stderrSoFar(): string
}

export class SshBoard implements Board {
  readonly kind = 'ssh' as const
  readonly id: string
  readonly host: string
  readonly port: number
  private readonly source: AgentSource
  private readonly label: string
  private readonly remoteDir: string
  private client: Client | null = null
  private connecting: Promise<Client> | null = null
  private prepared: Promise<{ hasTimeout: boolean }> | null = null
  private lastHostKey: HostKeyStatus | null = null

  constructor(private readonly options: SshBoardOptions) {
    this.host = options.host
    this.port = options.port ?? 22
    this.id = options.id ?? `ssh:${options.username}@${hostId(this.host, this.port)}`
    this.label = `${options.username}@${this.host}:${this.port}`
    this.source = loadAgentSource(options.sourceDir)
    this.remoteDir = posix.join(options.remoteRoot ?? '.benchside/agent', this.source.version)
  }

  get agentVersion(): string {
    return this.source.version
  }

  /** The host key seen on the last connect, once connected. */
  get hostKey(): HostKeyStatus | null {
    return this.lastHostKey
  }

  /** Opens the SSH connection (reused afterwards) and returns the host key status. */
  async connect(): Promise<HostKeyStatus> {
    await this.connection()
    return this.lastHostKey!
  }

  private connection(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client)
    this.connecting ??= this.open().finally(() => {
      this.connecting = null
    })
    return this.connecting
  }

  private async open(): Promise<Client> {
    const { client, hostKey } = await connectSsh({
      ...this.options,
      subject: {
        label: this.label,
        noun: 'board',
        settings: 'board settings',
        forgetKey: `Devices → Forget host key, or \`benchside boards forget-key ${this.options.id}\``,
      },
    })
    this.lastHostKey = hostKey
    this.client = client
    // A dropped connection is reopened on the next call.
    client.on('error', () => {
      if (this.client === client) this.client = null
    })
    client.on('close', () => {
      if (this.client === client) this.client = null
      this.prepared = null
    })
    return client
  }

  private async exec(command: string, input?: string): Promise<ExecHandle> {
    const client = await this.connection()
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(command, (error, stream) =>
        error ? reject(new BoardError('UNREACHABLE', `Could not run a command on ${this.label}: ${error.message}.`)) : resolve(stream),
      )
    })
    let stderr = ''
    const done = new Promise<AgentExit>((resolve) => {
      let stdout = ''
      channel.setEncoding('utf8')
      channel.stderr.setEncoding('utf8')
      channel.on('data', (d: string) => {
        if (stdout.length < MAX_OUTPUT) stdout += d
      })
      channel.stderr.on('data', (d: string) => {
        if (stderr.length < MAX_OUTPUT) stderr += d
      })
      channel.on('close', (code: number | null, signal?: string) => resolve({ stdout, stderr, code: code ?? null, signal: signal ?? null }))
    })
    channel.end(input ?? '')
    return { channel, done, stderrSoFar: () => stderr }
  }

  private async execSimple(command: string): Promise<AgentExit> {
    return (await this.exec(command)).done
  }

  private async upload(sftp: SFTPWrapper, path: string, content: Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(path, content, (error) =>
        error
          ? reject(
              new BoardError(
                'UNREACHABLE',
                `Uploading ${path} to ${this.label} failed: ${error.message} — check free space and permissions in the login folder.`,
              ),
            )
          : resolve(),
      ),
    )
  }

  /** Makes sure this agent version is built on the board: uploads and compiles only when its binary is missing. */
  ensureAgent(): Promise<{ hasTimeout: boolean }> {
    this.prepared ??= this.prepare().catch((error: unknown) => {
      this.prepared = null
      throw error
    })
    return this.prepared
  }

  private async prepare(): Promise<{ hasTimeout: boolean }> {
    const dir = shellQuote(this.remoteDir)
    const probe = await this.execSimple(
      `mkdir -p ${dir} && { test -x ${dir}/${AGENT_BINARY} && echo agent-present || echo agent-absent; } && { command -v timeout >/dev/null 2>&1 && echo timeout-present || true; }`,
    )
    if (probe.code !== 0) {
      throw new BoardError(
        'UNREACHABLE',
        `Could not create ${this.remoteDir} on ${this.label}: ${probe.stderr.trim() || `exit code ${probe.code}`} — check the login folder's permissions and free space.`,
      )
    }
    const hasTimeout = probe.stdout.includes('timeout-present')
    if (probe.stdout.includes('agent-present')) return { hasTimeout }
    const client = await this.connection()
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
      client.sftp((error, s) =>
        error
          ? reject(new BoardError('UNREACHABLE', `SFTP is not available on ${this.label}: ${error.message} — enable the sftp subsystem in sshd.`))
          : resolve(s),
      ),
    )
    try {
      for (const file of this.source.files) await this.upload(sftp, posix.join(this.remoteDir, file.name), file.content)
    } finally {
      sftp.end()
    }
    const compiler = this.options.compiler ?? 'cc'
    const build = await this.exec(`cd ${dir} && CC=${shellQuote(compiler)} sh ${BUILD_SCRIPT}`)
    const timeoutMs = this.options.compileTimeoutMs ?? 600_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))
    const exit = await Promise.race([build.done, timedOut])
    clearTimeout(timer)
    if (!exit) {
      build.channel.close()
      throw new BoardError('COMPILE', `Compiling the board agent on ${this.label} did not finish within ${timeoutMs / 1000} s.`)
    }
    if (exit.code !== 0) throw compileError(this.label, compiler, exit.code, exit.stderr)
    return { hasTimeout }
  }

  readonly info = onceInfo(async () => toBoardInfo(await this.run('info'), this.id, this.kind, this.label))

  async capabilities(): Promise<BoardCapabilities> {
    return capabilitiesOf(await this.info())
  }

  async run(operation: AgentOperation, args: AgentArgs = {}, options: RunOptions = {}): Promise<AgentAnswer> {
    const input = agentInput(operation, args)
    const { hasTimeout } = await this.ensureAgent()
    if (options.signal?.aborted) throw cancelledError(operation, this.label)
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 300_000
    // `timeout` on the board is the backstop when the connection drops; the pid lets us kill the process group ourselves.
    const guard = hasTimeout ? `timeout -s KILL ${Math.ceil(timeoutMs / 1000) + 5} ` : ''
    const run = await this.exec(`cd ${shellQuote(this.remoteDir)} && echo "benchside-pid $$" >&2 && exec ${guard}./${AGENT_BINARY}`, input)
    const state: { stopped: BoardError | null } = { stopped: null }
    const stop = (error: BoardError) => {
      if (state.stopped) return
      state.stopped = error
      void this.killRemote(run).catch(() => {})
    }
    const timer = setTimeout(() => stop(timeoutError(operation, this.label, timeoutMs)), timeoutMs)
    const onAbort = () => stop(cancelledError(operation, this.label))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const exit = await run.done
      if (state.stopped) throw state.stopped
      const stderr = exit.stderr.replace(/^benchside-pid \d+\n/, '')
      return parseAgentOutput({ ...exit, stderr }, operation, this.label)
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Kills the agent's process group on the board (its shell exec'd into it, so pid = pgid), then closes the channel. */
  private async killRemote(run: ExecHandle): Promise<void> {
    const pid = /benchside-pid (\d+)/.exec(run.stderrSoFar())?.[1]
    try {
      run.channel.signal('KILL')
    } catch {
      // Not every sshd honours signal requests; the kill below does the work.
    }
    if (pid) await this.execSimple(`kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid} 2>/dev/null; true`)
    run.channel.close()
  }

  async close(): Promise<void> {
    const client = this.client
    this.client = null
    this.prepared = null
    if (client) {
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve())
        client.end()
        setTimeout(resolve, 2000).unref()
      })
    }
  }
}

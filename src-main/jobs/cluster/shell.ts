// How Benchside reaches a cluster's login host: run a command, write, read and copy files. "This machine" runs them
// here; a login host is reached over SSH (commands over exec, files over SFTP). The SLURM logic above never knows which.
import { execFile } from 'node:child_process'
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs'
import { dirname, posix } from 'node:path'
import type { Client, SFTPWrapper } from 'ssh2'
import { BenchsideError, type ClusterLogin } from '../../contract/index.ts'
import type { KnownHosts } from '../../hardware/known-hosts.ts'
import { connectSsh, shellQuote } from '../../hardware/ssh-connect.ts'

export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface ClusterShell {
  /** Where commands run, for messages: "this machine", "alice@login:22". */
  readonly label: string
  /** Runs argv (no shell on this machine; quoted for the remote shell over SSH). */
  run(argv: string[], timeoutMs?: number): Promise<CommandResult>
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>
  /** Bytes from offset to the end of the file; null when the file does not exist (yet). */
  readFrom(path: string, offset: number): Promise<Buffer | null>
  /** Copies a local file to the cluster. */
  upload(localPath: string, remotePath: string): Promise<void>
  /** Copies a cluster file here. */
  download(remotePath: string, localPath: string): Promise<void>
  close(): void
}

const MAX_OUTPUT = 4 * 1024 * 1024

/** sbatch and friends on this machine; the working folder is a local (or shared) path. */
export class LocalShell implements ClusterShell {
  readonly label = 'this machine'

  run(argv: string[], timeoutMs = 60_000): Promise<CommandResult> {
    return new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        // A missing program is an answer too: the caller says which program and what to install.
        const missing = error && error.code === 'ENOENT' ? `${argv[0]}: command not found` : ''
        resolve({ code, stdout, stderr: stderr || missing || (error && code === null ? error.message : '') })
      })
    })
  }

  async writeFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, data, { mode })
  }

  async readFrom(path: string, offset: number): Promise<Buffer | null> {
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
    try {
      const size = statSync(path).size
      const buffer = Buffer.alloc(Math.max(0, size - offset))
      const read = buffer.length ? readSync(fd, buffer, 0, buffer.length, offset) : 0
      return buffer.subarray(0, read)
    } finally {
      closeSync(fd)
    }
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    mkdirSync(dirname(remotePath), { recursive: true })
    copyFileSync(localPath, remotePath)
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    mkdirSync(dirname(localPath), { recursive: true })
    copyFileSync(remotePath, localPath)
  }

  close(): void {}
}

/** A login host over SSH: one connection, reopened when it drops; files over one SFTP session. */
export class SshShell implements ClusterShell {
  readonly label: string
  private client: Promise<Client> | null = null
  private sftpSession: Promise<SFTPWrapper> | null = null

  constructor(
    private readonly login: Extract<ClusterLogin, { kind: 'ssh' }>,
    private readonly knownHosts: KnownHosts,
    private readonly clusterName: string,
  ) {
    this.label = `${login.username}@${login.host}:${login.port}`
  }

  private connection(): Promise<Client> {
    this.client ??= connectSsh({
      host: this.login.host,
      port: this.login.port,
      username: this.login.username,
      privateKeyPath: this.login.keyPath,
      knownHosts: this.knownHosts,
      connectTimeoutMs: 15_000,
      subject: {
        label: this.label,
        noun: 'login host',
        settings: 'cluster profile',
        forgetKey: `remove the cluster and add it again: benchside clusters remove ${this.clusterName}`,
      },
    }).then(
      ({ client }) => {
        const forget = () => {
          this.client = null
          this.sftpSession = null
        }
        client.on('close', forget)
        client.on('error', forget)
        return client
      },
      (error: unknown) => {
        this.client = null
        throw new BenchsideError({ code: 'UNAVAILABLE', message: `Cluster ${this.clusterName}: ${(error as Error).message}` })
      },
    )
    return this.client
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.connection().then(
      (client) =>
        new Promise<SFTPWrapper>((resolve, reject) =>
          client.sftp((error, sftp) =>
            error ? reject(new BenchsideError({ code: 'UNAVAILABLE', message: `SFTP is not available on ${this.label}: ${error.message}.` })) : resolve(sftp),
          ),
        ),
    )
    this.sftpSession.catch(() => (this.sftpSession = null))
    return this.sftpSession
  }

  async run(argv: string[], timeoutMs = 60_000): Promise<CommandResult> {
    const client = await this.connection()
    return new Promise((resolve, reject) => {
      client.exec(argv.map(shellQuote).join(' '), (error, channel) => {
        if (error) return reject(new BenchsideError({ code: 'UNAVAILABLE', message: `Could not run a command on ${this.label}: ${error.message}.` }))
        let stdout = ''
        let stderr = ''
        const timer = setTimeout(() => {
          stderr += `\n(no answer within ${timeoutMs / 1000} s)`
          channel.close()
        }, timeoutMs)
        channel.on('data', (d: Buffer) => stdout.length < MAX_OUTPUT && (stdout += d.toString()))
        channel.stderr.on('data', (d: Buffer) => stderr.length < MAX_OUTPUT && (stderr += d.toString()))
        channel.on('close', (code: number | null) => {
          clearTimeout(timer)
          resolve({ code: code ?? null, stdout, stderr })
        })
      })
    })
  }

  private async mkdirs(path: string): Promise<void> {
    const result = await this.run(['mkdir', '-p', path])
    if (result.code !== 0) throw new BenchsideError({ code: 'UNAVAILABLE', message: `Could not create ${path} on ${this.label}: ${result.stderr.trim()}` })
  }

  async writeFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    await this.mkdirs(posix.dirname(path))
    const sftp = await this.sftp()
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(path, typeof data === 'string' ? data : Buffer.from(data), { mode }, (error) =>
        error ? reject(new BenchsideError({ code: 'UNAVAILABLE', message: `Could not write ${path} on ${this.label}: ${error.message}.` })) : resolve(),
      ),
    )
  }

  async readFrom(path: string, offset: number): Promise<Buffer | null> {
    const sftp = await this.sftp()
    const size = await new Promise<number | null>((resolve, reject) =>
      sftp.stat(path, (error, stats) => {
        if (!error) return resolve(stats.size)
        if ((error as Error & { code?: number }).code === 2) return resolve(null) // SSH_FX_NO_SUCH_FILE
        reject(new BenchsideError({ code: 'UNAVAILABLE', message: `Could not read ${path} on ${this.label}: ${error.message}.` }))
      }),
    )
    if (size === null) return null
    if (size <= offset) return Buffer.alloc(0)
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      sftp
        .createReadStream(path, { start: offset, end: size - 1 })
        .on('data', (chunk: Buffer) => chunks.push(chunk))
        .on('error', (error: Error) =>
          reject(new BenchsideError({ code: 'UNAVAILABLE', message: `Could not read ${path} on ${this.label}: ${error.message}.` })),
        )
        .on('end', () => resolve(Buffer.concat(chunks)))
    })
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    await this.writeFile(remotePath, readFileSync(localPath))
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    const data = await this.readFrom(remotePath, 0)
    if (data === null) throw new BenchsideError({ code: 'NOT_FOUND', message: `${remotePath} does not exist on ${this.label}.` })
    mkdirSync(dirname(localPath), { recursive: true })
    writeFileSync(localPath, data)
  }

  close(): void {
    void this.client?.then(
      (client) => client.end(),
      () => {},
    )
    this.client = null
    this.sftpSession = null
  }
}

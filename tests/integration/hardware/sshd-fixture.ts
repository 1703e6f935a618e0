// A real OpenSSH server on 127.0.0.1 for tests: temporary host key, client key and authorized_keys, killed afterwards.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { detectComponent } from '../../../src-main/services/system-components.ts'

/** sshd on PATH or the sbin folder beside a bin folder on it (sshd refuses to start unless named by its full path). */
export const SSHD = detectComponent('sshd').path ?? '/usr/sbin/sshd'

export function sshdAvailable(): boolean {
  return detectComponent('sshd').present && detectComponent('ssh-keygen').present
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}: ${log()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port} within 10 s: ${log()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'benchside-test', '-f', file])
}

export class SshdFixture {
  readonly dir: string
  readonly username = userInfo().username
  port = 0
  private child: ChildProcess | null = null
  private stderr = ''

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'benchside-sshd-'))
    keygen(join(this.dir, 'host_key'))
    keygen(join(this.dir, 'client_key'))
    keygen(join(this.dir, 'other_key'))
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(join(this.dir, 'client_key.pub')))
  }

  get clientKey(): string {
    return join(this.dir, 'client_key')
  }
  /** A valid key that is not in authorized_keys. */
  get otherKey(): string {
    return join(this.dir, 'other_key')
  }

  /** The fingerprint as OpenSSH's own ssh-keygen prints it, e.g. "SHA256:abc...". */
  hostFingerprint(): string {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(this.dir, 'host_key.pub')], { encoding: 'utf8' })
    return out.split(' ')[1]!
  }

  /** extraConfig: more sshd_config lines, e.g. SetEnv for the commands run over it. */
  async start(port?: number, extraConfig: string[] = []): Promise<void> {
    this.port = port ?? (await freePort())
    // sshd refuses to start without its privilege separation folder.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755, recursive: true })
    const config = join(this.dir, 'sshd_config')
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PidFile none',
        'StrictModes no',
        'PermitRootLogin yes',
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        ...extraConfig,
        '',
      ].join('\n'),
    )
    this.stderr = ''
    this.child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()))
    await waitForPort(this.port, this.child, () => this.stderr)
  }

  /** Replaces the host key, as a reinstalled board (or an impostor) would present. */
  newHostKey(): void {
    rmSync(join(this.dir, 'host_key'))
    rmSync(join(this.dir, 'host_key.pub'))
    keygen(join(this.dir, 'host_key'))
  }

  async stop(): Promise<void> {
    const child = this.child
    this.child = null
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }

  async remove(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

// An SSH server built on ssh2's own Server, for machines without OpenSSH's sshd: public-key login, exec through
// `sh -c` in a temporary home folder, and the SFTP requests uploads need (open, write, close). Same surface as
// SshdFixture, so the same tests run against either.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, timingSafeEqual } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import type { Server as NetServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { isAbsolute, join } from 'node:path'
import ssh2 from 'ssh2'
import { freePort } from './sshd-fixture.ts'

const { Server, utils } = ssh2
const { STATUS_CODE } = utils.sftp

/**
 * A fresh ed25519 pair. ssh2's generator now and then (about 1 in 250 here) writes a private key its own parser calls
 * malformed, which would fail a login test for the fixture's sake: such a pair is drawn again.
 */
function keyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519')
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair
  }
}

function publicBlob(publicKey: string): Buffer {
  const parsed = utils.parseKey(publicKey)
  if (parsed instanceof Error) throw parsed
  return (Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH()
}

export class Ssh2ServerFixture {
  readonly dir: string
  readonly home: string
  readonly username = userInfo().username
  port = 0
  private host = keyPair()
  private readonly client = keyPair()
  private server: InstanceType<typeof Server> | null = null
  private readonly children = new Set<ChildProcess>()
  private readonly connections = new Set<{ end(): void }>()

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'benchside-ssh2-'))
    this.home = join(this.dir, 'home')
    mkdirSync(this.home)
    writeFileSync(join(this.dir, 'client_key'), this.client.private, { mode: 0o600 })
    writeFileSync(join(this.dir, 'other_key'), keyPair().private, { mode: 0o600 })
  }

  get clientKey(): string {
    return join(this.dir, 'client_key')
  }
  /** A valid key that the server does not accept. */
  get otherKey(): string {
    return join(this.dir, 'other_key')
  }

  hostFingerprint(): string {
    return `SHA256:${createHash('sha256').update(publicBlob(this.host.public)).digest('base64').replace(/=+$/, '')}`
  }

  newHostKey(): void {
    this.host = keyPair()
  }

  async start(port?: number): Promise<void> {
    this.port = port ?? (await freePort())
    const allowed = utils.parseKey(this.client.public) as ReturnType<typeof utils.parseKey> & { verify(data: Buffer, sig: Buffer, hash?: string): boolean }
    const allowedBlob = publicBlob(this.client.public)
    this.server = new Server({ hostKeys: [this.host.private] }, (connection) => {
      this.connections.add(connection)
      connection.on('close', () => this.connections.delete(connection))
      connection.on('authentication', (ctx) => {
        const keyOk =
          ctx.method === 'publickey' &&
          ctx.username === this.username &&
          ctx.key.data.length === allowedBlob.length &&
          timingSafeEqual(ctx.key.data, allowedBlob)
        if (!keyOk) return ctx.reject(['publickey'])
        // Without a signature the client only asks whether the key would do; with one, it must verify.
        if (ctx.signature && !allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey'])
        ctx.accept()
      })
      connection.on('ready', () => {
        connection.on('session', (acceptSession) => {
          const session = acceptSession()
          session.on('exec', (accept, _reject, info) => {
            const stream = accept()
            const child = spawn('sh', ['-c', info.command], { cwd: this.home, env: { ...process.env, HOME: this.home }, detached: true })
            this.children.add(child)
            stream.pipe(child.stdin!)
            child.stdout!.pipe(stream, { end: false })
            child.stderr!.pipe(stream.stderr, { end: false })
            child.on('close', (code) => {
              this.children.delete(child)
              stream.exit(code ?? 255)
              stream.end()
            })
            // A closed channel ends the command, as sshd does on hang-up.
            stream.on('close', () => {
              if (child.exitCode === null && child.pid) {
                try {
                  process.kill(-child.pid, 'SIGHUP')
                } catch {
                  // already gone
                }
              }
            })
          })
          session.on('sftp', (accept) => {
            const sftp = accept()
            const open = new Map<string, number>()
            let next = 0
            sftp.on('OPEN', (id, filename, flags) => {
              try {
                const fd = openSync(isAbsolute(filename) ? filename : join(this.home, filename), utils.sftp.flagsToString(flags) ?? 'r')
                const handle = Buffer.from(String(next++))
                open.set(handle.toString(), fd)
                sftp.handle(id, handle)
              } catch {
                sftp.status(id, STATUS_CODE.FAILURE)
              }
            })
            sftp.on('WRITE', (id, handle, offset, data) => {
              const fd = open.get(handle.toString())
              if (fd === undefined) return sftp.status(id, STATUS_CODE.FAILURE)
              writeSync(fd, data, 0, data.length, offset)
              sftp.status(id, STATUS_CODE.OK)
            })
            sftp.on('CLOSE', (id, handle) => {
              const fd = open.get(handle.toString())
              if (fd === undefined) return sftp.status(id, STATUS_CODE.FAILURE)
              closeSync(fd)
              open.delete(handle.toString())
              sftp.status(id, STATUS_CODE.OK)
            })
            for (const unsupported of [
              'READ',
              'FSTAT',
              'FSETSTAT',
              'OPENDIR',
              'READDIR',
              'LSTAT',
              'STAT',
              'REMOVE',
              'RMDIR',
              'REALPATH',
              'READLINK',
              'SETSTAT',
              'MKDIR',
              'RENAME',
              'SYMLINK',
            ] as const) {
              sftp.on(unsupported as 'READ', (id: number) => sftp.status(id, STATUS_CODE.OP_UNSUPPORTED))
            }
          })
        })
      })
      connection.on('error', () => {})
    })
    await new Promise<void>((resolve, reject) => {
      ;(this.server as unknown as NetServer).once('error', reject)
      this.server!.listen(this.port, '127.0.0.1', () => resolve())
    })
  }

  /** Stops listening; open sessions live on, as they do when sshd's listener stops. */
  async stop(): Promise<void> {
    this.server?.close()
    this.server = null
  }

  async remove(): Promise<void> {
    await this.stop()
    for (const connection of this.connections) connection.end()
    for (const child of this.children) if (child.pid) process.kill(-child.pid, 'SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }
}

import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import { defaultAgentSourceDir } from '../../../src-main/hardware/agent-source.ts'
import { BoardError } from '../../../src-main/hardware/board.ts'
import { hostId, JsonFileKnownHosts } from '../../../src-main/hardware/known-hosts.ts'
import { SshBoard, type SshBoardOptions } from '../../../src-main/hardware/ssh-board.ts'
import { freePort, newSshFixture, sshServerKind, type SshFixture } from './ssh-fixture.ts'

/** Processes whose working folder is the given one: the remote agent runs in its version folder. */
function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`) === dir
      } catch {
        return false
      }
    })
    .map(Number)
}

async function caught(promise: Promise<unknown>): Promise<BoardError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof BoardError) return error
    throw error
  }
  throw new Error('expected the promise to reject')
}

describe(`SSH board against a real SSH server (${sshServerKind}) on 127.0.0.1`, requires('cc'), () => {
  let sshd: SshFixture
  let work: string
  let knownHostsFile: string
  const boards: SshBoard[] = []

  const board = (extra: Partial<SshBoardOptions> = {}): SshBoard => {
    const b = new SshBoard({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      privateKeyPath: sshd.clientKey,
      knownHosts: new JsonFileKnownHosts(knownHostsFile),
      remoteRoot: join(work, 'remote'),
      connectTimeoutMs: 10_000,
      ...extra,
    })
    boards.push(b)
    return b
  }

  beforeAll(async () => {
    sshd = newSshFixture()
    await sshd.start()
    work = mkdtempSync(join(tmpdir(), 'benchside-ssh-board-'))
    knownHostsFile = join(work, 'known-hosts.json')
  })

  afterAll(async () => {
    await Promise.all(boards.map((b) => b.close()))
    await sshd.remove()
    rmSync(work, { recursive: true, force: true })
  })

  it('trusts the host key on first use, uploads and compiles the agent, and runs checked operations', async () => {
    const b = board()
    const key = await b.connect()
    expect(key.firstSeen).toBe(true)
    expect(key.fingerprint).toBe(sshd.hostFingerprint())
    expect(key.keyType).toBe('ssh-ed25519')
    expect(JSON.parse(readFileSync(knownHostsFile, 'utf8'))[hostId('127.0.0.1', sshd.port)].fingerprint).toBe(key.fingerprint)

    const info = await b.info()
    expect(info.agentVersion).toBe(b.agentVersion)
    expect(info.kind).toBe('ssh')
    expect(info.operations).toContain('gemm_bitserial')
    const binary = join(work, 'remote', b.agentVersion, 'benchside-agent')
    expect(existsSync(binary)).toBe(true)

    const gemm = await b.run('gemm_f32', { m: 24, n: 40, k: 33, repeat: 2 })
    expect(gemm).toMatchObject({ ok: true, op: 'gemm_f32', m: 24, n: 40, k: 33, ops: 2 * 24 * 40 * 33 })
    const bits = await b.run('gemm_bitserial', { m: 8, n: 16, k: 130, a_bits: 2, w_bits: 2, layout: 'words_outer', repeat: 1 })
    expect(bits).toMatchObject({ ok: true, layout: 'words_outer', a_bits: 2 })

    // A second connection finds the recorded key and the built binary: nothing is uploaded or compiled again.
    const built = statSync(binary).mtimeMs
    const again = board()
    expect((await again.connect()).firstSeen).toBe(false)
    expect((await again.run('info')).agent_version).toBe(b.agentVersion)
    expect(statSync(binary).mtimeMs).toBe(built)
  })

  it('reports a wrong answer computed on the board', async () => {
    const error = await caught(board().run('gemm_i8', { m: 9, n: 7, k: 40, repeat: 1, inject_error: true }))
    expect(error.reason).toBe('WRONG_ANSWER')
    expect(error.message).toMatch(/wrong answer: C\[\d+\]\[\d+\] = -?\d+, the reference gives -?\d+/)
  })

  it('stops a hung agent at the timeout and kills the remote process', async () => {
    const b = board()
    await b.ensureAgent()
    const dir = join(work, 'remote', b.agentVersion)
    const started = Date.now()
    const error = await caught(b.run('sleep', { seconds: 30, debug: true }, { timeoutMs: 1500 }))
    expect(error.reason).toBe('TIMEOUT')
    expect(error.message).toMatch(/did not answer 'sleep' within 1\.5 s/)
    expect(Date.now() - started).toBeLessThan(15_000)
    const deadline = Date.now() + 5000
    while (processesIn(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(processesIn(dir)).toEqual([])
  })

  it('stops the remote agent when the run is cancelled', async () => {
    const b = board()
    await b.ensureAgent()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 500)
    const error = await caught(b.run('sleep', { seconds: 30, debug: true }, { signal: controller.signal, timeoutMs: 20_000 }))
    expect(error.reason).toBe('CANCELLED')
  })

  it('names the user and host when the key is not accepted', async () => {
    const error = await caught(board({ privateKeyPath: sshd.otherKey }).connect())
    expect(error.reason).toBe('AUTH')
    expect(error.message).toContain(`Authentication failed for ${sshd.username}@127.0.0.1`)
    expect(error.message).toContain('check the key file / agent')
  })

  it('says a missing key file cannot be read', async () => {
    const error = await caught(board({ privateKeyPath: join(work, 'no-such-key') }).connect())
    expect(error.reason).toBe('AUTH')
    expect(error.message).toMatch(/^Could not read the SSH key file \S*no-such-key for \S+@127\.0\.0\.1:\d+ \(ENOENT\) — check the path/)
  })

  it('says an address where nothing listens cannot be reached', async () => {
    const port = await freePort()
    const error = await caught(board({ port }).connect())
    expect(error.reason).toBe('UNREACHABLE')
    expect(error.message).toBe(`Could not reach 127.0.0.1:${port} (ECONNREFUSED) — check the address and that sshd runs.`)
  })

  it('gives the first compiler errors when the agent does not compile on the board', async () => {
    const broken = mkdtempSync(join(work, 'broken-src-'))
    cpSync(defaultAgentSourceDir(), broken, { recursive: true })
    writeFileSync(join(broken, 'agent_ops.c'), readFileSync(join(broken, 'agent_ops.c'), 'utf8') + '\nint broken_on_purpose = ;\n')
    const error = await caught(board({ sourceDir: broken }).info())
    expect(error.reason).toBe('COMPILE')
    expect(error.message).toMatch(/Compiling the board agent on .* failed/)
    expect(error.message).toMatch(/agent_ops\.c:\d+:\d+: error/)
  })

  it('refuses a changed host key, naming both fingerprints', async () => {
    const trusted = sshd.hostFingerprint()
    await board().connect()
    await sshd.stop()
    sshd.newHostKey()
    await sshd.start(sshd.port)
    const offered = sshd.hostFingerprint()
    expect(offered).not.toBe(trusted)
    const error = await caught(board().connect())
    expect(error.reason).toBe('HOST_KEY')
    expect(error.message).toContain(trusted)
    expect(error.message).toContain(offered)
    expect(error.message).toContain('has changed')
    // The recorded key is untouched: refusing must not re-trust.
    expect(JSON.parse(readFileSync(knownHostsFile, 'utf8'))[hostId('127.0.0.1', sshd.port)].fingerprint).toBe(trusted)
  })
})

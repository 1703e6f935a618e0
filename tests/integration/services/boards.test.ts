// Boards and operators through the API, as the UI and CLI use them: a real sshd on 127.0.0.1, the real agent,
// the real latency table, real jobs.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import type { JobProgress } from '../../../src-main/contract/index.ts'
import { createCore, isProcessAlive, type Core } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'
import { hostId, JsonFileKnownHosts } from '../../../src-main/hardware/known-hosts.ts'
import { freePort, newSshFixture, sshServerKind, type SshFixture } from '../hardware/ssh-fixture.ts'

describe('boards and operators', requires('cc'), () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  const ended = new Map<string, JobProgress>()

  beforeAll(() => {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
    core.events.on(({ event, payload }) => {
      const p = payload as JobProgress
      if (event === 'jobProgress' && ['finished', 'failed', 'killed'].includes(p.state)) ended.set(p.runUuid, p)
    })
  })
  afterAll(() => {
    core.close()
    home.remove()
  })

  const finish = (uuid: string) => waitFor(() => ended.get(uuid), 120_000, `job ${uuid}`)
  const latencyRows = () => core.store.latency.list({ boardId: 'local' })

  it('lists this computer as a board that cannot be removed', async () => {
    expect(await core.api.listBoards({})).toEqual([{ id: 'local', name: 'This computer', kind: 'local', address: 'local', fingerprint: null }])
    await expect(core.api.removeBoard({ board: 'local' })).rejects.toThrow(/cannot be removed/)
  })

  it('measures a roofline once, keeps it in the latency table, and reuses it', async () => {
    const params = { board: 'local', sizes: [64], bits: [1], threads: 1, force: false }
    const first = await core.api.startJob({ kind: 'roofline', params })
    expect((await finish(first.uuid)).state).toBe('finished')
    const rows = latencyRows()
    // peak, three bandwidth levels, fp32, int8 and one bit-serial GEMM
    expect(rows.map((r) => r.operation).sort()).toEqual(['bandwidth', 'bandwidth', 'bandwidth', 'gemm_bitserial', 'gemm_f32', 'gemm_i8', 'peak_flops'])

    const study = (await core.api.getRoofline({ board: 'local' }))!
    expect(study.runUuid).toBe(first.uuid)
    expect(study.bandwidth.map((b) => b.level)).toEqual(['L1', 'L2', 'DRAM'])
    expect(study.operators.map((o) => o.name)).toEqual(['fp32 GEMM 64', 'int8 GEMM 64', 'bit-serial a1w1 GEMM 64'])
    for (const op of study.operators) {
      expect(op.achievedOpsPerSecond).toBeGreaterThan(0)
      expect(op.fractionOfCeiling).toBeGreaterThan(0)
      expect(op.achievedOpsPerSecond).toBeLessThanOrEqual(op.ceilingOpsPerSecond * 1.5)
    }

    const second = await core.api.startJob({ kind: 'roofline', params })
    expect((await finish(second.uuid)).state).toBe('finished')
    expect(latencyRows().map((r) => r.measuredAt)).toEqual(rows.map((r) => r.measuredAt))

    const csv = await core.api.exportLatencyTable({ board: 'local' })
    expect(csv.rows).toBe(7)
    expect(csv.csv.split('\n')[0]).toMatch(/^board_id,agent_version,operation,shape/)
  })

  it('measures one operation once, then answers from the latency table unless forced', async () => {
    const args = { m: 96, n: 96, k: 96 }
    const first = await core.api.measureOperation({ board: 'local', operation: 'gemm_i8', args })
    expect(first.cached).toBe(false)
    expect(first.answer).toMatchObject({ ok: true, op: 'gemm_i8', m: 96 })
    const again = await core.api.measureOperation({ board: 'local', operation: 'gemm_i8', args })
    expect(again).toEqual({ ...first, cached: true })
    const forced = await core.api.measureOperation({ board: 'local', operation: 'gemm_i8', args, force: true })
    expect(forced.cached).toBe(false)
    await expect(core.api.measureOperation({ board: 'local', operation: 'gemm_i8', args: { m: -3 } })).rejects.toThrow(/argument 'm' must be an integer/)
  })

  it('times the layers of a trained model, under a policy', async () => {
    const trained = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
    expect((await finish(trained.uuid)).state).toBe('finished')
    const run = await core.api.startJob({
      kind: 'layer-latency',
      params: {
        board: 'local',
        model: trained.uuid.slice(0, 8),
        policy: [
          { keep: 0.5, bits: 8 },
          { keep: 1, bits: 2 },
          { keep: 1, bits: 1 },
          { keep: 1, bits: 32 },
        ],
      },
    })
    expect((await finish(run.uuid)).state).toBe('finished')
    const policy = [
      { keep: 0.5, bits: 8 },
      { keep: 1, bits: 2 },
      { keep: 1, bits: 1 },
      { keep: 1, bits: 32 },
    ]
    // Timings are kept per policy: the model as it is was not timed, this policy was.
    expect(await core.api.getLayerLatency({ board: 'local', model: trained.uuid })).toBeNull()
    const result = (await core.api.getLayerLatency({ board: 'local', model: trained.uuid, policy }))!
    expect(result.layers.map((l) => [l.id, l.bits, l.keep])).toEqual([
      ['fc1', 8, 0.5],
      ['fc2', 2, 1],
      ['fc3', 1, 1],
      ['logits', 32, 1],
    ])
    expect(result.layers.map((l) => l.kernel)).toEqual(['gemm_i8', 'gemm_bitserial', 'gemm_bitserial', 'gemm_f32'])
    expect(result.totalS).toBeCloseTo(
      result.layers.reduce((s, l) => s + l.medianS, 0),
      6,
    )

    const wrong = await core.api.startJob({ kind: 'layer-latency', params: { board: 'local', model: trained.uuid, policy: [{ keep: 1, bits: 8 }] } })
    const failed = await finish(wrong.uuid)
    expect(failed.state).toBe('failed')
    expect((await core.api.getRun({ run: wrong.uuid })).error).toMatch(/policy has 1 entries but the model has 4/)
  })

  it('keeps a board lease across processes: a live owner blocks, a dead owner is taken over', () => {
    const parent = process.ppid
    expect(core.store.boards.tryLease('local', { pid: parent, host: hostname(), runUuid: 'other' }, isProcessAlive)).toBeNull()
    const holder = core.store.boards.tryLease('local', { pid: process.pid, host: hostname(), runUuid: null }, isProcessAlive)
    expect(holder).toMatchObject({ pid: parent, runUuid: 'other' })
    core.store.boards.releaseLease('local', parent)
    const deadPid = 2 ** 22 + 12345
    expect(core.store.boards.tryLease('local', { pid: deadPid, host: hostname(), runUuid: null }, isProcessAlive)).toBeNull()
    expect(core.store.boards.tryLease('local', { pid: process.pid, host: hostname(), runUuid: null }, isProcessAlive)).toBeNull()
    core.store.boards.releaseLease('local', process.pid)
  })

  describe(`SSH boards (${sshServerKind})`, () => {
    let sshd: SshFixture
    beforeAll(async () => {
      sshd = newSshFixture()
      await sshd.start()
    })
    afterAll(async () => {
      await sshd?.stop()
      await sshd?.remove()
    })
    const knownHosts = () => {
      const file = join(home.dir, 'known_hosts.json')
      return existsSync(file) ? readFileSync(file, 'utf8') : ''
    }

    it('refuses bad credentials and leaves nothing registered, not even the host key', async () => {
      await expect(core.api.addBoard({ id: 'badkey', host: '127.0.0.1', port: sshd.port, username: sshd.username, keyPath: sshd.otherKey })).rejects.toThrow(
        /authentication failed/i,
      )
      expect((await core.api.listBoards({})).map((b) => b.id)).toEqual(['local'])
      expect(knownHosts()).not.toContain(String(sshd.port))
    })

    it('says what to check when the host cannot be reached', async () => {
      const closed = await freePort()
      await expect(core.api.addBoard({ id: 'nowhere', host: '127.0.0.1', port: closed, username: 'x', keyPath: sshd.clientKey })).rejects.toThrow(
        /Could not reach 127\.0\.0\.1:\d+/,
      )
      expect((await core.api.listBoards({})).map((b) => b.id)).toEqual(['local'])
    })

    it('adds a board with its host key fingerprint, tests it, measures on it, and removes it', async () => {
      const added = await core.api.addBoard({ id: 'loopback', host: '127.0.0.1', port: sshd.port, username: sshd.username, keyPath: sshd.clientKey })
      expect(added.fingerprint).toBe(sshd.hostFingerprint())
      expect(added.test.operations).toContain('gemm_f32')
      expect((await core.api.listBoards({})).find((b) => b.id === 'loopback')).toMatchObject({ kind: 'ssh', fingerprint: sshd.hostFingerprint() })
      await expect(core.api.addBoard({ id: 'loopback', host: '127.0.0.1', port: sshd.port, username: sshd.username, keyPath: sshd.clientKey })).rejects.toThrow(
        /exists already/,
      )

      const run = await core.api.startJob({ kind: 'roofline', params: { board: 'loopback', sizes: [64], bits: [], threads: 1, force: false } })
      expect((await finish(run.uuid)).state).toBe('finished')
      expect(core.store.latency.list({ boardId: 'loopback' }).length).toBe(6)

      expect(await core.api.removeBoard({ board: 'loopback' })).toEqual({ removed: true })
      expect((await core.api.listBoards({})).map((b) => b.id)).toEqual(['local'])
      // The trusted key goes with the board: adding it again trusts the key it offers then.
      expect(knownHosts()).not.toContain(String(sshd.port))
    })

    it('uses a passphrase-protected key: given at add, asked again after a restart (Unlock), never written down', async () => {
      const locked = join(home.dir, 'locked_key')
      copyFileSync(sshd.clientKey, locked)
      chmodSync(locked, 0o600)
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'correct horse', '-f', locked])
      const target = { host: '127.0.0.1', port: sshd.port, username: sshd.username, keyPath: locked }
      await expect(core.api.addBoard({ id: 'locked', ...target })).rejects.toThrow(/is protected by a passphrase\. Unlock the board/)
      expect((await core.api.addBoard({ id: 'locked', ...target, passphrase: 'correct horse' })).test.operations).toContain('gemm_f32')

      const later = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
      try {
        await expect(later.api.testBoard({ board: 'locked' })).rejects.toThrow(/is protected by a passphrase\. Unlock the board/)
        await expect(later.api.unlockBoard({ board: 'locked', passphrase: 'wrong' })).rejects.toThrow(/and the one given does not open it/)
        expect((await later.api.unlockBoard({ board: 'locked', passphrase: 'correct horse' })).operations).toContain('gemm_f32')
        expect((await later.api.testBoard({ board: 'locked' })).operations).toContain('gemm_f32')
      } finally {
        later.close()
      }
      // Nothing in the data folder holds it.
      const stored = readdirSync(home.dir, { recursive: true, encoding: 'utf8' })
        .map((name) => join(home.dir, name))
        .filter((file) => statSync(file).isFile())
      for (const file of stored) expect(readFileSync(file).includes('correct horse'), file).toBe(false)
      await core.api.removeBoard({ board: 'locked' })
    })

    it('refuses a changed host key with the way out, and connects again once the old key is forgotten', async () => {
      await core.api.addBoard({ id: 'reinstalled', host: '127.0.0.1', port: sshd.port, username: sshd.username, keyPath: sshd.clientKey })
      // As if the board had been reinstalled: Benchside trusted another key for this host.
      const trusted = new JsonFileKnownHosts(join(home.dir, 'known_hosts.json'))
      trusted.remember(hostId('127.0.0.1', sshd.port), { fingerprint: 'SHA256:the-key-before-the-reinstall', keyType: 'ssh-ed25519', addedAt: 1 })
      // Another host on the same data folder (the app started again) connects afresh, and meets the changed key.
      const later = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
      try {
        await expect(later.api.testBoard({ board: 'reinstalled' })).rejects.toThrow(
          /host key of \[127\.0\.0\.1\]:\d+ has changed.*benchside boards forget-key reinstalled/,
        )
        expect(await later.api.forgetHostKey({ board: 'reinstalled' })).toEqual({ forgotten: 'SHA256:the-key-before-the-reinstall' })
        expect((await later.api.testBoard({ board: 'reinstalled' })).operations).toContain('gemm_f32')
        expect((await later.api.listBoards({})).find((b) => b.id === 'reinstalled')?.fingerprint).toBe(sshd.hostFingerprint())
        await expect(later.api.forgetHostKey({ board: 'local' })).rejects.toThrow(/no host key/)
      } finally {
        later.close()
      }
      await core.api.removeBoard({ board: 'reinstalled' })
    })
  })
})

// Jobs on a real one-node SLURM cluster (slurmctld, slurmd, munge from Debian, started by the test): profiles tested
// before they are kept, sweeps and studies fanned out as job arrays through "this machine" and through SSH to
// 127.0.0.1, results equal to local runs, a host killed with -9 re-attaching, scancel from outside, retries.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClusterProfile } from '../../../src-main/contract/index.ts'
import { createCore, type Core } from '../../../src-main/core.ts'
import { ClusterRunState } from '../../../src-main/jobs/cluster/cluster-job.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { SlurmCluster, slurmAvailable } from '../../helpers/slurm-cluster.ts'
import { waitFor } from '../../helpers/temp-home.ts'
import { freePort, SshdFixture, sshdAvailable } from '../hardware/sshd-fixture.ts'

const ROOT = process.cwd()

describe.skipIf(!slurmAvailable())('jobs on a SLURM cluster', () => {
  let cluster: SlurmCluster
  let harness: JobHarness
  let core: Core
  let model: string
  let sshd: SshdFixture | null = null
  const finish = (uuid: string, ms = 240_000) => harness.finish(uuid, ms)
  const cells = (c: Core, uuid: string) =>
    c.store.sweeps.cells(uuid).map(({ scope, sigma, repeat, correct, count }) => ({ scope, sigma, repeat, correct, count }))
  const profile = (name: string, more: Partial<ClusterProfile> = {}) => ({
    name,
    login: { kind: 'local' as const },
    partition: cluster.partition,
    benchsideDir: ROOT,
    workDir: join(cluster.dir, 'work'),
    cpusPerTask: 1,
    maxParallel: 2,
    ...more,
  })
  const sweepParams = () => ({ model, strategy: 'grid' as const, grid: { from: 0.1, to: 100, count: 4 }, repeats: 1, limit: 300, seed: 7 })
  /** Each task's attempts, from the result files in the run's cluster folder. */
  /** A host of its own: the CLI running the test sweep on a cluster, to be killed with -9. */
  const cliSweep = (clusterName: string) =>
    spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'benchside.js'),
        'sweep',
        model,
        '--strategy',
        'grid',
        '--sigmas',
        '0.1:100:4',
        '--repeats',
        '1',
        '--limit',
        '300',
        '--seed',
        '7',
        '--executor',
        'slurm',
        '--cluster',
        clusterName,
        '--json',
      ],
      { env: { ...process.env, BENCHSIDE_HOME: harness.dataDir }, stdio: 'ignore' },
    )
  const attempts = (uuid: string) =>
    readdirSync(join(cluster.dir, 'work', uuid))
      .filter((f) => f.endsWith('.jsonl'))
      .sort()

  beforeAll(async () => {
    process.env.BENCHSIDE_CLUSTER_POLL_MS = '300'
    cluster = new SlurmCluster()
    await cluster.start()
    harness = jobHarness()
    core = harness.core
    const trained = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
    expect((await finish(trained.uuid)).state).toBe('finished')
    model = trained.uuid
  }, 180_000)

  afterAll(async () => {
    harness?.close()
    await sshd?.remove()
    await cluster?.remove()
    delete process.env.BENCHSIDE_CLUSTER_POLL_MS
  })

  it('refuses a profile whose partition does not exist or whose nodes lack Benchside, and keeps neither', async () => {
    await expect(core.api.addCluster(profile('nopart', { partition: 'nope' }))).rejects.toThrow(/partition 'nope' does not exist on cluster nopart.*bench/)
    await expect(core.api.addCluster(profile('noinstall', { benchsideDir: '/opt/no-benchside' }))).rejects.toThrow(
      /Benchside is not installed at \/opt\/no-benchside/,
    )
    // Installed on the login host but no Node there: the test job itself fails, and says so.
    await expect(core.api.addCluster(profile('nonode', { nodePath: '/opt/no-node/bin/node' }))).rejects.toThrow(/could not start Benchside/)
    expect(await core.api.listClusters({})).toEqual([])
  }, 120_000)

  it('adds a tested profile and refuses at submission, leaving no run, when the cluster changed since', async () => {
    const test = await core.api.addCluster(profile('local'))
    expect(test).toMatchObject({ cluster: 'local', partition: 'bench', node: cluster.node })
    expect(test.benchsideVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect((await core.api.listClusters({})).map((p) => p.name)).toEqual(['local'])
    // The cluster lost its partition (or the profile was edited by hand): submission checks again, before any run exists.
    core.store.clusters.save(ClusterProfile.parse(profile('stale', { partition: 'gone' })))
    const before = core.store.runs.list({}).length
    await expect(core.api.startJob({ kind: 'sweep', params: sweepParams(), executor: { kind: 'slurm', cluster: 'stale' } })).rejects.toThrow(
      /partition 'gone' does not exist/,
    )
    await expect(core.api.startJob({ kind: 'roofline', params: {}, executor: { kind: 'slurm', cluster: 'local' } })).rejects.toThrow(/cannot run on a cluster/)
    expect(core.store.runs.list({}).length).toBe(before)
    core.store.clusters.remove('stale')
  }, 120_000)

  it('fans a walking-noise sweep out as an array and gets the cells of the same sweep run locally', async () => {
    const local = await core.api.startJob({ kind: 'sweep', params: sweepParams() })
    expect((await finish(local.uuid)).state).toBe('finished')
    const remote = await core.api.startJob({ kind: 'sweep', params: sweepParams(), executor: { kind: 'slurm', cluster: 'local' } })
    const seen = new Set<string>()
    const stop = core.events.on(({ event, payload }) => {
      const p = payload as { runUuid?: string; placement?: { slurmJobIds: string[] } }
      if (event === 'jobProgress' && p.runUuid === remote.uuid) p.placement?.slurmJobIds.forEach((id) => seen.add(id))
    })
    expect((await finish(remote.uuid)).state).toBe('finished')
    stop()
    expect(seen.size).toBe(1)
    expect(cells(core, remote.uuid)).toEqual(cells(core, local.uuid))
    const [a, b] = [await core.api.getSweep({ run: local.uuid }), await core.api.getSweep({ run: remote.uuid })]
    expect(b.scopes.map((s) => [s.scope, s.midpoint?.sigma])).toEqual(a.scopes.map((s) => [s.scope, s.midpoint?.sigma]))
    // One task per injection point (flatten excluded), each run once.
    expect(attempts(remote.uuid)).toHaveLength(a.scopes.length)
  }, 300_000)

  it('re-attaches after the host is killed with -9: the array finishes, nothing measured twice or lost', async () => {
    const reference = await core.api.startJob({ kind: 'sweep', params: sweepParams() })
    expect((await finish(reference.uuid)).state).toBe('finished')
    core.store.clusters.save(ClusterProfile.parse(profile('serial', { maxParallel: 1 })))
    const cli = cliSweep('serial')
    const run = await waitFor(() => core.store.runs.list({}).find((r) => r.kind === 'sweep' && r.status === 'RUNNING'), 60_000, 'the CLI sweep')
    // Some tasks done, others still queued (one at a time): the host dies mid-array.
    await waitFor(() => cells(core, run.uuid).length >= 10, 120_000, 'the first tasks')
    cli.kill('SIGKILL')
    await new Promise((resolve) => cli.once('exit', resolve))
    const midway = cells(core, run.uuid).length
    expect(midway).toBeLessThan(cells(core, reference.uuid).length)

    // A new host on the same data folder takes the run over instead of interrupting it.
    const next = createCore({ dataDir: harness.dataDir, host: 'cli', launch: nodeJobLauncher })
    try {
      expect(next.store.runs.summary(run.uuid).status).toBe('RUNNING')
      await waitFor(() => next.store.runs.summary(run.uuid).status !== 'RUNNING', 240_000, 'the re-attached sweep')
      expect(next.store.runs.summary(run.uuid)).toMatchObject({ status: 'FINISHED', error: null })
      expect(cells(next, run.uuid)).toEqual(cells(core, reference.uuid))
      // Every task ran exactly once: one attempt file each, no retries.
      expect(attempts(run.uuid).every((f) => f.endsWith('.attempt-1.jsonl'))).toBe(true)
    } finally {
      next.close()
    }
  }, 420_000)

  it('cancels a cluster job whose host died before anyone took it over, and its array with it', async () => {
    core.store.clusters.save(ClusterProfile.parse(profile('orphan', { maxParallel: 1 })))
    const cli = cliSweep('orphan')
    const run = await waitFor(
      () => core.store.runs.list({}).find((r) => r.status === 'RUNNING' && core.store.clusters.placementOf(r.uuid)?.cluster === 'orphan'),
      60_000,
      'the CLI sweep',
    )
    await waitFor(() => cells(core, run.uuid).length >= 5, 120_000, 'the first task')
    cli.kill('SIGKILL')
    await new Promise((resolve) => cli.once('exit', resolve))
    const state = ClusterRunState.parse(core.store.clusters.placementOf(run.uuid)!.state)
    const jobIds = [...new Set(state.tasks.flatMap((t) => (t.jobId ? [t.jobId] : [])))]
    expect(jobIds.length).toBeGreaterThan(0)

    // At once, before this host's periodic take-over: the array must not run on unowned.
    await core.api.cancelJob({ run: run.uuid })
    await waitFor(() => core.store.runs.summary(run.uuid).status === 'KILLED', 30_000, 'KILLED')
    const queued = () => execFileSync('squeue', ['-h', '-j', jobIds.join(',')], { encoding: 'utf8' }).trim()
    await waitFor(() => queued() === '', 10_000, 'the array to leave the queue')
  }, 300_000)

  it('turns an outside scancel into KILLED with the reason, and resumes only the missing tasks', async () => {
    core.store.clusters.save(ClusterProfile.parse(profile('one', { maxParallel: 1 })))
    const run = await core.api.startJob({ kind: 'sweep', params: sweepParams(), executor: { kind: 'slurm', cluster: 'one' } })
    await waitFor(() => cells(core, run.uuid).length >= 5, 120_000, 'the first task')
    const jobId = await waitFor(() => core.jobs.list().find((j) => j.runUuid === run.uuid)?.placement?.slurmJobIds[0], 10_000, 'the job id')
    execFileSync('scancel', [jobId])
    const end = await finish(run.uuid)
    expect(end.state).toBe('killed')
    const summary = core.store.runs.summary(run.uuid)
    expect(summary.status).toBe('KILLED')
    expect(summary.error).toMatch(/Cancelled in SLURM/)
    const before = attempts(run.uuid)
    harness.ended.delete(run.uuid)
    await waitFor(() => !core.jobs.list().some((j) => j.runUuid === run.uuid), 10_000, 'the job to leave')

    await core.api.resumeJob({ run: run.uuid })
    expect((await finish(run.uuid)).state).toBe('finished')
    const after = attempts(run.uuid)
    // Tasks that had finished were not submitted again: no second attempt of them.
    const finishedFirst = before.filter((f) => after.includes(f)).map((f) => f.split('.')[0])
    expect(finishedFirst.length).toBeGreaterThan(0)
    for (const task of finishedFirst) expect(after.filter((f) => f.startsWith(`${task}.`))).toHaveLength(1)
    const reference = await core.api.startJob({ kind: 'sweep', params: sweepParams() })
    expect((await finish(reference.uuid)).state).toBe('finished')
    expect(cells(core, run.uuid)).toEqual(cells(core, reference.uuid))
  }, 420_000)

  it('retries a task that exits non-zero, then fails the job with its stderr tail', async () => {
    core.store.clusters.save(ClusterProfile.parse(profile('retry', { retries: 1 })))
    const run = await core.api.startJob({
      kind: 'selftest',
      params: { seconds: 5, failAfterSeconds: 0.3 },
      executor: { kind: 'slurm', cluster: 'retry' },
    })
    const end = await finish(run.uuid)
    expect(end.state).toBe('failed')
    const error = core.store.runs.summary(run.uuid).error ?? ''
    expect(error).toMatch(/after 2 attempt\(s\) per task/)
    expect(error).toMatch(/--- stderr \(last lines\) ---\nbenchside worker: .*fail/i)
    expect(attempts(run.uuid)).toEqual(['task-0.attempt-1.jsonl', 'task-0.attempt-2.jsonl'])
  }, 180_000)

  it('fans a robustness study out over its trainings and matches the study run locally', async () => {
    const params = {
      architecture: 'mlp-tfc',
      epochs: 1,
      repeats: 1,
      noisySigmas: [0.5],
      qatBits: [4],
      qatScales: [0.2],
      evaluation: { from: 1e-2, to: 1e2, count: 4, repeats: 1, walking: false, limit: 300 },
    }
    const local = await core.api.startJob({ kind: 'robustness-study', params })
    const remote = await core.api.startJob({ kind: 'robustness-study', params, executor: { kind: 'slurm', cluster: 'local' } })
    expect((await finish(local.uuid, 400_000)).state).toBe('finished')
    expect((await finish(remote.uuid, 400_000)).state).toBe('finished')
    const accuracies = async (uuid: string) =>
      Object.fromEntries(
        (await core.api.getRun({ run: uuid })).metrics
          .filter((m) => /^(clean|test)_accuracy:/.test(m.key))
          .map((m) => [m.key, m.value])
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      )
    const expected = await accuracies(local.uuid)
    // float, noisy and QAT: a test and a clean accuracy each.
    expect(Object.keys(expected)).toHaveLength(6)
    expect(await accuracies(remote.uuid)).toEqual(expected)
    expect(cells(core, remote.uuid)).toEqual(cells(core, local.uuid))
    // Each variant's model came back from the cluster as an artifact of the run.
    expect(existsSync(join(harness.dataDir, 'artifacts', remote.uuid, 'variants'))).toBe(true)
  }, 600_000)

  describe.skipIf(!sshdAvailable())('through SSH to the login host', () => {
    beforeAll(async () => {
      sshd = new SshdFixture()
      // Commands over SSH find the test cluster as a login shell on a real cluster finds its own.
      await sshd.start(undefined, [`SetEnv SLURM_CONF=${cluster.conf} BENCHSIDE_CLUSTER_POLL_MS=300`])
    })

    it('refuses an unreachable login host and keeps nothing', async () => {
      const port = await freePort()
      await expect(
        core.api.addCluster(profile('nohost', { login: { kind: 'ssh', host: '127.0.0.1', port, username: 'root', keyPath: sshd!.clientKey } })),
      ).rejects.toThrow(/Could not reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/)
      expect((await core.api.listClusters({})).map((p) => p.name)).not.toContain('nohost')
      // A stored profile whose login host went away, or whose installation did: refused at submission, no run left.
      const before = core.store.runs.list({}).length
      core.store.clusters.save(
        ClusterProfile.parse(profile('gone', { login: { kind: 'ssh', host: '127.0.0.1', port, username: 'root', keyPath: sshd!.clientKey } })),
      )
      await expect(core.api.startJob({ kind: 'sweep', params: sweepParams(), executor: { kind: 'slurm', cluster: 'gone' } })).rejects.toThrow(
        /Could not reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
      )
      core.store.clusters.save(ClusterProfile.parse(profile('uninstalled', { benchsideDir: '/opt/no-benchside' })))
      await expect(core.api.startJob({ kind: 'sweep', params: sweepParams(), executor: { kind: 'slurm', cluster: 'uninstalled' } })).rejects.toThrow(
        /Benchside is not installed at \/opt\/no-benchside/,
      )
      expect(core.store.runs.list({}).length).toBe(before)
    })

    it('runs a sweep as an array through the login host, with the cells of the local run', async () => {
      const login = { kind: 'ssh' as const, host: '127.0.0.1', port: sshd!.port, username: sshd!.username, keyPath: sshd!.clientKey }
      const test = await core.api.addCluster(profile('remote', { login }))
      expect(test.node).toBe(cluster.node)
      const local = await core.api.startJob({ kind: 'sweep', params: sweepParams() })
      const remote = await core.api.startJob({ kind: 'sweep', params: sweepParams(), executor: { kind: 'slurm', cluster: 'remote' } })
      expect((await finish(local.uuid)).state).toBe('finished')
      expect((await finish(remote.uuid)).state).toBe('finished')
      expect(cells(core, remote.uuid)).toEqual(cells(core, local.uuid))
    }, 300_000)
  })
})

// The job manager with real child processes and a real SQLite file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { JobProgress } from '../../../src-main/contract/index.ts'
import { createCore, type Core } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import type { JobProcess } from '../../../src-main/jobs/protocol.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'

describe('job manager', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  let launched: JobProcess[]
  let progress: JobProgress[]

  function open(concurrency = 2): Core {
    launched = []
    progress = []
    const c = createCore({
      dataDir: home.dir,
      host: 'cli',
      concurrency,
      launch: () => {
        const p = nodeJobLauncher()
        launched.push(p)
        return p
      },
    })
    c.events.on(({ event, payload }) => {
      if (event === 'jobProgress') progress.push(payload as JobProgress)
    })
    return c
  }

  const finalState = (uuid: string) =>
    waitFor(() => progress.find((p) => p.runUuid === uuid && ['finished', 'failed', 'killed'].includes(p.state)), 20_000, `end of ${uuid}`)
  const metricCount = (uuid: string) => core.store.db.prepare(`SELECT count(*) AS n FROM metrics WHERE run_uuid = ?`).get(uuid) as { n: number }

  beforeEach(() => {
    home = tempHome()
    core = open()
  })
  afterEach(() => {
    core.close()
    home.remove()
  })

  it('runs a selftest job to FINISHED with params, metrics, progress and an artifact', async () => {
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.5, metricsPerSecond: 20 } })
    expect(['SCHEDULED', 'RUNNING']).toContain(run.status)
    expect((await finalState(run.uuid)).state).toBe('finished')
    const detail = await core.api.getRun({ run: run.uuid })
    expect(detail.status).toBe('FINISHED')
    expect(detail.params).toMatchObject({ seconds: '0.5', metricsPerSecond: '20' })
    expect(detail.metrics.filter((m) => m.key === 'loss').map((m) => m.step)).toEqual([...Array(10).keys()])
    expect(detail.artifacts.map((a) => a.path)).toEqual(['result.json'])
    expect((await core.api.getRunResult({ run: run.uuid })).result).toEqual({ steps: 10, resumedAt: null, finalLoss: expect.any(Number) })
    const fractions = progress.filter((p) => p.runUuid === run.uuid && p.state === 'running').map((p) => p.fraction)
    expect(fractions.length).toBeGreaterThan(1)
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b))
    expect(progress.some((p) => p.runUuid === run.uuid && p.etaSeconds !== null)).toBe(true)
  })

  it('cancel kills the process and marks the run KILLED', async () => {
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 30, metricsPerSecond: 20 } })
    await waitFor(() => metricCount(run.uuid).n > 4, 15_000, 'first metrics')
    const summary = await core.api.cancelJob({ run: run.uuid })
    expect(summary.status).toBe('KILLED')
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')
    expect((await core.api.getRun({ run: run.uuid })).status).toBe('KILLED')
    expect(progress.at(-1)).toMatchObject({ runUuid: run.uuid, state: 'killed' })
  })

  it('kill -9 of a job process leaves the run FAILED with its metrics so far, and the database intact', async () => {
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 30, metricsPerSecond: 50 } })
    await waitFor(() => metricCount(run.uuid).n >= 20, 15_000, 'metrics before the kill')
    process.kill(launched[0]!.pid!, 'SIGKILL')
    expect((await finalState(run.uuid)).state).toBe('failed')
    const detail = await core.api.getRun({ run: run.uuid })
    expect(detail.status).toBe('FAILED')
    expect(detail.error).toMatch(/SIGKILL/)
    expect(detail.metrics.length).toBeGreaterThanOrEqual(20)
    expect(core.store.integrityCheck()).toBe('ok')
  })

  it('a job that throws ends FAILED with its message', async () => {
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 5, metricsPerSecond: 20, failAfterSeconds: 0.2 } })
    expect((await finalState(run.uuid)).state).toBe('failed')
    const detail = await core.api.getRun({ run: run.uuid })
    expect(detail.error).toMatch(/failed on purpose at step 4/)
    expect(detail.metrics.filter((m) => m.key === 'loss')).toHaveLength(4)
  })

  it('queues jobs beyond the concurrency limit as SCHEDULED, and cancelling a queued job never starts it', async () => {
    core.close()
    core = open(1)
    const first = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.5, metricsPerSecond: 20 } })
    const second = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.5, metricsPerSecond: 20 } })
    const third = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.5, metricsPerSecond: 20 } })
    expect(first.status).toBe('RUNNING')
    expect(second.status).toBe('SCHEDULED')
    expect((await core.api.cancelJob({ run: third.uuid })).status).toBe('KILLED')
    await finalState(second.uuid)
    expect(launched).toHaveLength(2)
    const runs = await core.api.listRuns({})
    expect(Object.fromEntries(runs.map((r) => [r.uuid, r.status]))).toEqual({
      [first.uuid]: 'FINISHED',
      [second.uuid]: 'FINISHED',
      [third.uuid]: 'KILLED',
    })
    // The second started only after the first ended.
    const firstEnd = (await core.api.getRun({ run: first.uuid })).endTime!
    expect((await core.api.getRun({ run: second.uuid })).startTime!).toBeGreaterThanOrEqual(firstEnd)
  })

  it('resumes a killed run after its last logged step', async () => {
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 1, metricsPerSecond: 20 } })
    await waitFor(() => metricCount(run.uuid).n >= 10, 15_000, 'metrics before cancel')
    await core.api.cancelJob({ run: run.uuid })
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')
    const before = core.store.runs.lastSteps(run.uuid).loss!
    progress.length = 0
    expect((await core.api.resumeJob({ run: run.uuid })).status).toMatch(/RUNNING|SCHEDULED/)
    expect((await finalState(run.uuid)).state).toBe('finished')
    const steps = (await core.api.getRun({ run: run.uuid })).metrics.filter((m) => m.key === 'loss').map((m) => m.step)
    expect(steps).toEqual([...Array(20).keys()])
    expect(before).toBeLessThan(19)
    await expect(core.api.resumeJob({ run: run.uuid })).rejects.toThrow(/FINISHED/)
  })
})

// What a job reports when the store cannot take it as it comes (issue 12, item 1): non-finite metrics are stored as
// they were, and a locked or full database fails that job with the cause, never the host, which then carries on.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RunDetail, type MetricPoint, type RunSummary } from '../../../src-main/contract/index.ts'
import type { Core } from '../../../src-main/core.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

/** The store's busy timeout here: short, so a held lock fails a write in a fraction of a second. */
const BUSY_TIMEOUT_MS = 200

describe('job reports the store cannot take as they come', () => {
  let harness: JobHarness
  let core: Core
  // An exception escaping a process listener would end a real host; here it would land in this list.
  const uncaught: unknown[] = []
  const onUncaught = (error: unknown) => void uncaught.push(error)

  const metricCount = (uuid: string) => core.store.db.prepare(`SELECT count(*) FROM metrics WHERE run_uuid = ?`).pluck().get(uuid) as number
  const storedStatus = async (uuid: string) => (await core.api.getRun({ run: uuid })).status
  /** The host still serves the API, reads included, and runs a new job to the end. */
  const hostCarriesOn = async () => {
    expect(await core.api.appInfo({})).toMatchObject({ host: 'cli', dataDir: harness.dataDir })
    expect((await core.api.listRuns({})).length).toBeGreaterThan(0)
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'the failed job process to exit')
    const next = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.3, metricsPerSecond: 10 } })
    expect((await harness.finish(next.uuid, 60_000)).state).toBe('finished')
    expect(await storedStatus(next.uuid)).toBe('FINISHED')
  }

  beforeAll(() => {
    process.on('uncaughtException', onUncaught)
    harness = jobHarness({ busyTimeoutMs: BUSY_TIMEOUT_MS })
    core = harness.core
  })
  afterEach(() => expect(uncaught).toEqual([]))
  afterAll(() => {
    harness.close()
    process.off('uncaughtException', onUncaught)
  })

  it('stores NaN, Infinity and -Infinity as logged and reads them back as such, whole and as change-feed deltas', async () => {
    let uuid: string | null = null
    let cursor = { metrics: 0 }
    let fetching = Promise.resolve()
    const followed: MetricPoint[] = []
    // Follows the run as the renderer does: on runUpdated with new metrics, getRun({ since }) one request at a time.
    const stop = core.events.on(({ event, payload }) => {
      const change = payload as { run: RunSummary; metricsSince: number | null }
      if (event !== 'runUpdated' || change.run.uuid !== uuid || change.metricsSince === null) return
      fetching = fetching.then(async () => {
        const delta = await core.api.getRun({ run: change.run.uuid, since: cursor })
        followed.push(...delta.metrics)
        cursor = delta.cursor
      })
    })
    try {
      const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.6, metricsPerSecond: 20, nonFinite: true } })
      uuid = run.uuid
      expect((await harness.finish(run.uuid, 60_000)).state).toBe('finished')
      const detail = await core.api.getRun({ run: run.uuid })
      expect(detail.status).toBe('FINISHED')
      const expected = [0, 'NaN', 'Infinity', '-Infinity', 4, 'NaN', 'Infinity', '-Infinity', 8, 'NaN', 'Infinity', '-Infinity']
      const diverged = (points: MetricPoint[]) => points.filter((m) => m.key === 'diverged').sort((a, b) => a.step - b.step)
      expect(diverged(detail.metrics).map((m) => [m.step, m.value])).toEqual(expected.map((value, step) => [step, value]))
      // The answer is what the contract says and survives JSON (the web transport) unchanged.
      expect(RunDetail.parse(detail)).toEqual(detail)
      expect(JSON.parse(JSON.stringify(detail))).toEqual(detail)

      await waitFor(async () => (await fetching, followed.length === detail.metrics.length), 10_000, 'the feed to bring every point')
      expect(diverged(followed)).toEqual(diverged(detail.metrics))

      // Stored as MLflow does: NaN as 0 with is_nan; the last value a table sorts by is the last finite one.
      expect(
        core.store.db.prepare(`SELECT step FROM metrics WHERE run_uuid = ? AND key = 'diverged' AND is_nan = 1 ORDER BY step`).pluck().all(run.uuid),
      ).toEqual([1, 5, 9])
      expect(core.store.db.prepare(`SELECT step, value FROM metric_last WHERE run_uuid = ? AND key = 'diverged'`).get(run.uuid)).toEqual({ step: 8, value: 8 })
      expect(core.store.runs.lastMetric(run.uuid, 'diverged')).toBe(-Infinity)
    } finally {
      stop()
    }
  })

  it('fails a job whose metrics meet a write lock held past the busy timeout; the end is recorded once the lock is gone', async () => {
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 60, metricsPerSecond: 20 } })
    await waitFor(() => metricCount(run.uuid) > 3, 30_000, 'first metrics')
    // Another process's long write, as a second connection to the same file.
    const other = new Database(join(harness.dataDir, 'benchside.sqlite'))
    other.exec('BEGIN IMMEDIATE')
    try {
      const ended = await harness.finish(run.uuid, 30_000)
      expect(ended.state).toBe('failed')
      expect(ended.message).toMatch(/could not store what the job reported: database is locked/)
      // Its end could not be written either while the lock is held: it is kept here and said so.
      expect(ended.message).toMatch(/could not record that the run ended \(database is locked\)/)
      expect(await core.api.appInfo({})).toMatchObject({ host: 'cli' })
      await new Promise((resolve) => setTimeout(resolve, 4 * BUSY_TIMEOUT_MS))
    } finally {
      other.exec('ROLLBACK')
      other.close()
    }
    await waitFor(async () => (await storedStatus(run.uuid)) === 'FAILED', 20_000, 'the FAILED status written after the lock')
    expect((await core.api.getRun({ run: run.uuid })).error).toMatch(/could not store what the job reported: database is locked/)
    await hostCarriesOn()
  })

  it('fails a job whose metrics do not fit (database full); once there is room the run is FAILED with the cause', async () => {
    const db = core.store.db
    const limit = db.pragma('max_page_count', { simple: true }) as number
    const run = await core.api.startJob({ kind: 'selftest', params: { seconds: 60, metricsPerSecond: 50 } })
    // No page more than the file has now: the first write that needs one fails.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
    try {
      const ended = await harness.finish(run.uuid, 60_000)
      expect(ended.state).toBe('failed')
      expect(ended.message).toMatch(/could not store what the job reported: database or disk is full/)
      expect(await core.api.appInfo({})).toMatchObject({ host: 'cli' })
    } finally {
      db.pragma(`max_page_count = ${limit}`)
    }
    await waitFor(async () => (await storedStatus(run.uuid)) === 'FAILED', 40_000, 'the FAILED status written once there is room')
    expect((await core.api.getRun({ run: run.uuid })).error).toMatch(/database or disk is full/)
    await hostCarriesOn()
  })
})

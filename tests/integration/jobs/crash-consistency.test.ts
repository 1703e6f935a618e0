// Crash consistency of a resumable job (issue 12, item 5): a robustness study killed with SIGKILL at seeded random
// points and resumed each time must end with exactly what an uninterrupted run of the same study stores: no metric
// logged twice for one step, no sweep cell twice, the same metrics, cells and artifacts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Core } from '../../../src-main/core.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

/** The kill points are drawn from this seed; a failure names them, and the same seed lands them in the same places. */
const SEED = 20_260_312
const KILLS = 3

describe('crash consistency of a resumed robustness study', () => {
  let harness: JobHarness
  let core: Core
  // The smallest study with two variants (float and noisy) and walking noise: seconds per variant on this machine.
  const params = {
    architecture: 'mlp-tfc',
    epochs: 1,
    repeats: 1,
    noisySigmas: [0.5],
    qatBits: [],
    evaluation: { from: 1e-2, to: 1e2, count: 5, repeats: 1, walking: true, limit: 300 },
  }

  /** Everything the study stored, in a canonical order: duplicates would show as repeated entries. */
  const stored = (uuid: string) => ({
    metrics: core.store.db.prepare(`SELECT key, step, value, is_nan AS nan FROM metrics WHERE run_uuid = ? ORDER BY key, step, rowid`).all(uuid) as {
      key: string
      step: number
      value: number
      nan: number
    }[],
    cells: core.store.db
      .prepare(`SELECT scope, sigma, repeat, correct, count FROM sweep_cells WHERE run_uuid = ? ORDER BY scope, sigma, repeat, rowid`)
      .all(uuid) as { scope: string; sigma: number; repeat: number; correct: number; count: number }[],
    artifacts: core.store.db.prepare(`SELECT path FROM artifacts WHERE run_uuid = ? ORDER BY path`).pluck().all(uuid),
  })

  beforeAll(() => {
    harness = jobHarness()
    core = harness.core
  })
  afterAll(() => harness.close())

  it(`ends as an uninterrupted run does after ${KILLS} kill -9s at seeded random points`, { timeout: 600_000 }, async () => {
    const reference = await core.api.startJob({ kind: 'robustness-study', params })
    expect((await harness.finish(reference.uuid)).state).toBe('finished')

    // How far a study has got: the rows it has stored. The uninterrupted run says how many there are in the end.
    const rowsOf = (uuid: string) =>
      core.store.db
        .prepare(`SELECT (SELECT count(*) FROM metrics WHERE run_uuid = ?) + (SELECT count(*) FROM sweep_cells WHERE run_uuid = ?)`)
        .pluck()
        .get(uuid, uuid) as number
    const total = rowsOf(reference.uuid)
    const random = seededRandom(SEED)
    // Increasing numbers of stored rows (5–90% of them: most are walking-noise cells, where a variant's metrics wait for
    // its marker), each followed by a short random delay that lands the kill between messages.
    const points = Array.from({ length: KILLS }, () => ({ rows: Math.round(total * (0.05 + 0.85 * random())), delayMs: Math.floor(50 * random()) })).sort(
      (a, b) => a.rows - b.rows,
    )
    const where = `seed ${SEED}, kill points ${JSON.stringify(points)} of ${total} rows`
    const run = await core.api.startJob({ kind: 'robustness-study', params })
    for (const [index, point] of points.entries()) {
      await waitFor(() => rowsOf(run.uuid) >= point.rows, 120_000, `${point.rows} rows stored (${where})`)
      await new Promise((resolve) => setTimeout(resolve, point.delayMs))
      const job = harness.launched.at(-1)!
      expect(
        core.jobs.list().map((j) => [j.runUuid, j.state]),
        `kill ${index + 1} came after the end (${where})`,
      ).toEqual([[run.uuid, 'running']])
      process.kill(job.pid!, 'SIGKILL')
      expect((await harness.finish(run.uuid)).state, where).toBe('failed')
      harness.ended.delete(run.uuid)
      await waitFor(() => core.jobs.list().length === 0, 10_000, 'the killed process to exit')
      await core.api.resumeJob({ run: run.uuid })
    }
    expect((await harness.finish(run.uuid)).state, where).toBe('finished')
    expect(harness.launched.filter((p) => p.pid !== undefined)).toHaveLength(KILLS + 2)

    const [resumed, uninterrupted] = [stored(run.uuid), stored(reference.uuid)]
    const repeats = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i)
    expect(repeats(resumed.metrics.map((m) => `${m.key}@${m.step}`)), where).toEqual([])
    expect(repeats(resumed.cells.map((c) => `${c.scope}@${c.sigma}#${c.repeat}`)), where).toEqual([])
    expect(resumed.metrics, where).toEqual(uninterrupted.metrics)
    expect(resumed.cells, where).toEqual(uninterrupted.cells)
    expect(resumed.artifacts, where).toEqual(uninterrupted.artifacts)
    const study = await core.api.getStudy({ run: run.uuid })
    expect(study.variants.map((v) => [v.id, v.state])).toEqual([
      ['float-r0', 'evaluated'],
      ['noisy-s0.5-r0', 'evaluated'],
    ])
  })
})

// The sweep job in real processes: cells stored as measured, a killed sweep resumes without measuring a cell twice
// and ends with exactly the results of an uninterrupted sweep (the noise depends only on the seed and the cell).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Core } from '../../../src-main/core.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

describe('sweep job', () => {
  let harness: JobHarness
  let core: Core
  let model: string
  const finish = (uuid: string) => harness.finish(uuid)
  const cells = (uuid: string) => core.store.sweeps.cells(uuid).map(({ scope, sigma, repeat, correct, count }) => ({ scope, sigma, repeat, correct, count }))

  beforeAll(async () => {
    harness = jobHarness()
    core = harness.core
    const trained = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
    expect((await finish(trained.uuid)).state).toBe('finished')
    model = trained.uuid
  }, 120_000)
  afterAll(() => harness.close())

  const params = () => ({ model, strategy: 'grid' as const, grid: { from: 0.1, to: 100, count: 7 }, repeats: 2, limit: 400 })

  it('measures a walking-noise grid and reports a midpoint per point', async () => {
    const run = await core.api.startJob({ kind: 'sweep', params: params() })
    expect((await finish(run.uuid)).state).toBe('finished')
    const result = await core.api.getSweep({ run: run.uuid })
    expect(result.scopes.map((s) => s.scope)).toEqual(['input', 'fc1', 'fc1.relu', 'fc2', 'fc2.relu', 'fc3', 'fc3.relu', 'logits'])
    for (const scope of result.scopes) {
      expect(scope.curve.map((p) => p.sigma)).toEqual([0, ...[0.1, 0.3162, 1, 3.162, 10, 31.62, 100].map((s) => expect.closeTo(s, 2))])
      expect(scope.curve[0]!.accuracy).toBeGreaterThan(0.6)
      expect(scope.curve.at(-1)!.accuracy).toBeLessThan(scope.curve[0]!.accuracy)
      expect(scope.midpoint?.status).toBe('found')
    }
    // Every noisy cell of every scope: 8 scopes × 7 σ × 2 repeats, plus one clean cell each.
    expect(cells(run.uuid)).toHaveLength(8 * (7 * 2 + 1))
  })

  it('resumes a killed sweep without measuring a cell twice, ending as an uninterrupted sweep ends', async () => {
    // Long enough (8 scopes × 13 σ × 3 repeats on 2000 samples) that the kill lands mid-sweep.
    const long = { ...params(), grid: { from: 0.1, to: 100, count: 13 }, repeats: 3, limit: 2000 }
    const reference = await core.api.startJob({ kind: 'sweep', params: long })
    expect((await finish(reference.uuid)).state).toBe('finished')
    const run = await core.api.startJob({ kind: 'sweep', params: long })
    await waitFor(() => cells(run.uuid).length >= 20, 120_000, 'some cells')
    process.kill(harness.launched.at(-1)!.pid!, 'SIGKILL')
    expect((await finish(run.uuid)).state).toBe('failed')
    harness.ended.delete(run.uuid)
    const before = cells(run.uuid)
    expect(before.length).toBeLessThan(8 * (13 * 3 + 1))
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')

    await core.api.resumeJob({ run: run.uuid })
    expect((await finish(run.uuid)).state).toBe('finished')
    const after = cells(run.uuid)
    for (const cell of before) expect(after).toContainEqual(cell)
    expect(after).toEqual(cells(reference.uuid))
  })

  it('gives the same cells on one worker thread as spread over two', async () => {
    const one = await core.api.startJob({ kind: 'sweep', params: { ...params(), workers: 1 } })
    const two = await core.api.startJob({ kind: 'sweep', params: { ...params(), workers: 2 } })
    expect((await finish(one.uuid)).state).toBe('finished')
    expect((await finish(two.uuid)).state).toBe('finished')
    expect((await core.api.getRun({ run: two.uuid })).params.workers).toBe('2')
    expect(cells(two.uuid)).toEqual(cells(one.uuid))
  })
})

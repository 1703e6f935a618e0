// The robustness-study job in real processes: a small grid end to end, and a study killed mid-way that resumes
// without retraining what it stored and ends as an uninterrupted one does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Core } from '../../../src-main/core.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

describe('robustness-study job', () => {
  let harness: JobHarness
  let core: Core
  const params = {
    architecture: 'mlp-tfc',
    epochs: 1,
    repeats: 1,
    noisySigmas: [0.5],
    qatBits: [4],
    qatScales: [0.2],
    evaluation: { from: 1e-2, to: 1e2, count: 5, repeats: 1, walking: true, limit: 300 },
  }

  beforeAll(() => {
    harness = jobHarness()
    core = harness.core
  })
  afterAll(() => harness.close())

  it('trains float, noisy and QAT, measures each under global and walking noise, and groups the results', async () => {
    const run = await core.api.startJob({ kind: 'robustness-study', params })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const study = await core.api.getStudy({ run: run.uuid })
    expect(study.variants.map((v) => [v.id, v.state])).toEqual([
      ['float-r0', 'evaluated'],
      ['noisy-s0.5-r0', 'evaluated'],
      ['qat4-c0.2-r0', 'evaluated'],
    ])
    for (const v of study.variants) {
      expect(v.cleanAccuracy).toBeGreaterThan(0.6)
      expect(v.curve.map((p) => p.sigma)).toHaveLength(5)
      // Accuracy falls to about chance at σ = 100.
      expect(v.curve.at(-1)!.accuracy).toBeLessThan(0.3)
      expect(v.globalMidpoint?.status).toBe('found')
      expect(Object.keys(v.layerMidpoints)).toEqual(expect.arrayContaining(['fc1', 'fc1.relu', 'logits']))
    }
    expect(study.groups.map((g) => g.key)).toEqual(['float', 'noisy-s0.5', 'qat4-c0.2'])
    expect(study.summary.some((line) => line.startsWith('At 4 bits'))).toBe(true)
    // Each variant's model is stored, QAT with its quantization.
    const model = JSON.parse((await core.api.readArtifact({ run: run.uuid, path: 'variants/qat4-c0.2-r0/model/model.json' })).text)
    expect(model.userDefinedMetadata.benchside.quant.weights.bits).toBe(4)
  })

  it('resumes after a kill -9 without retraining stored variants, and ends with the same results', async () => {
    const reference = (await core.api.listRuns({ kind: 'robustness-study' })).at(-1)!
    const run = await core.api.startJob({ kind: 'robustness-study', params })
    await waitFor(() => core.store.runs.lastMetric(run.uuid, 'evaluated:float-r0') !== null, 120_000, 'the first variant measured')
    process.kill(harness.launched.at(-1)!.pid!, 'SIGKILL')
    expect((await harness.finish(run.uuid)).state).toBe('failed')
    harness.ended.delete(run.uuid)
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')

    await core.api.resumeJob({ run: run.uuid })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const metrics = (await core.api.getRun({ run: run.uuid })).metrics
    expect(metrics.filter((m) => m.key === 'test_accuracy:float-r0')).toHaveLength(1)
    expect(metrics.filter((m) => m.key === 'evaluated:float-r0')).toHaveLength(1)
    const [resumed, uninterrupted] = await Promise.all([core.api.getStudy({ run: run.uuid }), core.api.getStudy({ run: reference.uuid })])
    expect(resumed.groups.map((g) => [g.key, g.cleanAccuracy, g.midpoint])).toEqual(uninterrupted.groups.map((g) => [g.key, g.cleanAccuracy, g.midpoint]))
  })

  it('refuses a study of a run of another kind', async () => {
    const selftest = await core.api.startJob({ kind: 'selftest', params: { seconds: 0.2 } })
    await harness.finish(selftest.uuid)
    await expect(core.api.getStudy({ run: selftest.uuid })).rejects.toThrow(/not a robustness study/)
  })
})

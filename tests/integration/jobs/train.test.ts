// The train job in real processes: deterministic for a seed, resumable from its checkpoint after a kill -9.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metricNumber } from '../../../src-main/contract/index.ts'
import type { Core } from '../../../src-main/core.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

describe('train job', () => {
  let harness: JobHarness
  let core: Core
  const finish = (uuid: string) => harness.finish(uuid)
  const params = { architecture: 'mlp-tfc', epochs: 3, batchSize: 128, seed: 7, validationFraction: 0.1 }
  const losses = async (uuid: string) =>
    (await core.api.getRun({ run: uuid })).metrics.filter((m) => m.key === 'train_loss').map((m) => [m.step, metricNumber(m.value)])

  beforeAll(() => {
    harness = jobHarness()
    core = harness.core
  })
  afterAll(() => harness.close())

  it('gives identical metrics for the same seed on the same backend', async () => {
    const a = await core.api.startJob({ kind: 'train', params })
    expect((await finish(a.uuid)).state).toBe('finished')
    const b = await core.api.startJob({ kind: 'train', params })
    expect((await finish(b.uuid)).state).toBe('finished')
    expect((await core.api.getRun({ run: a.uuid })).params.backend).toBe((await core.api.getRun({ run: b.uuid })).params.backend)
    expect(await losses(b.uuid)).toEqual(await losses(a.uuid))
    const c = await core.api.startJob({ kind: 'train', params: { ...params, seed: 8 } })
    expect((await finish(c.uuid)).state).toBe('finished')
    expect(await losses(c.uuid)).not.toEqual(await losses(a.uuid))
  })

  it('trains LeNet-5-BN (convolutions without bias, batch norm, pooling) on the default backend', async () => {
    const run = await core.api.startJob({ kind: 'train', params: { architecture: 'lenet5-bn', epochs: 1, validationFraction: 0 } })
    expect((await finish(run.uuid)).state).toBe('finished')
    const detail = await core.api.getRun({ run: run.uuid })
    expect(detail.metrics.find((m) => m.key === 'test_accuracy')!.value).toBeGreaterThan(0.7)
  })

  it('trains with quantization-aware training and evaluates and sweeps the model with the same quantization', async () => {
    const qat = { weightBits: 4, activationBits: 4, scaling: 'constant' as const, scale: 0.2 }
    const run = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 2, validationFraction: 0, qat } })
    expect((await finish(run.uuid)).state).toBe('finished')
    const trained = (await core.api.getRun({ run: run.uuid })).metrics.find((m) => m.key === 'test_accuracy')!.value
    expect(trained).toBeGreaterThan(0.7)
    const model = JSON.parse((await core.api.readArtifact({ run: run.uuid, path: 'model/model.json' })).text)
    expect(model.userDefinedMetadata.benchside.quant.weights).toMatchObject({ bits: 4, granularity: 'channel' })
    expect(model.userDefinedMetadata.benchside.quant.activations.ranges).toEqual({ 'fc1.relu': 3, 'fc2.relu': 3, 'fc3.relu': 3 })
    const evaluation = await core.api.startJob({ kind: 'evaluate', params: { model: run.uuid } })
    expect((await finish(evaluation.uuid)).state).toBe('finished')
    expect((await core.api.getRun({ run: evaluation.uuid })).metrics.find((m) => m.key === 'accuracy')!.value).toBe(trained)
    const sweep = await core.api.startJob({
      kind: 'sweep',
      params: { model: run.uuid, strategy: 'grid', grid: { from: 1, to: 10, count: 2 }, repeats: 1, limit: 2000 },
    })
    expect((await finish(sweep.uuid)).state).toBe('finished')
    const clean = (await core.api.getSweep({ run: sweep.uuid })).scopes[0]!.curve.find((p) => p.sigma === 0)!.accuracy
    expect(clean).toBe(trained)
  })

  it('resumes from the last checkpoint after its process is killed, and ends as an uninterrupted run does', async () => {
    const reference = (await core.api.listRuns({ kind: 'train' })).at(-1)!
    const run = await core.api.startJob({ kind: 'train', params })
    await waitFor(() => core.store.runs.lastSteps(run.uuid).train_loss === 0, 120_000, 'first epoch')
    await waitFor(() => core.api.getRun({ run: run.uuid }).then((r) => r.artifacts.some((a) => a.path === 'checkpoint/model.json')), 30_000, 'checkpoint')
    process.kill(harness.launched.at(-1)!.pid!, 'SIGKILL')
    expect((await finish(run.uuid)).state).toBe('failed')
    harness.ended.delete(run.uuid)
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')

    await core.api.resumeJob({ run: run.uuid })
    expect((await finish(run.uuid)).state).toBe('finished')
    const resumed = await losses(run.uuid)
    expect(resumed.map(([step]) => step)).toEqual([0, 1, 2])
    // Per-step metrics go on where they stopped: every step once, in order, over the three epochs.
    const steps = (await core.api.getRun({ run: run.uuid })).metrics.filter((m) => m.key === 'step_loss').map((m) => m.step)
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b))
    expect(steps.at(-1)).toBe(3 * Number((await core.api.getRun({ run: run.uuid })).params.steps_per_epoch))
    // The resumed epochs start from the checkpoint with a fresh optimizer state, so they match the reference closely, not bitwise.
    const expected = await losses(reference.uuid)
    expect(resumed[0]).toEqual(expected[0])
    for (let e = 1; e < 3; e++) expect(Math.abs(resumed[e]![1]! - expected[e]![1]!)).toBeLessThan(0.15)
    expect((await core.api.getRun({ run: run.uuid })).metrics.find((m) => m.key === 'test_accuracy')!.value).toBeGreaterThan(0.7)
  })
})

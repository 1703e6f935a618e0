// The uncertainty jobs in real processes: a repulsive last-layer ensemble, a deep ensemble and a single model evaluated
// against handwritten digits as the OOD set, uncertainty under noise, and active learning resumed after a kill -9.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ActiveLearningResult, EnsembleTrainResult, UncertaintyEvaluateResult } from '../../../src-main/contract/index.ts'
import type { Core } from '../../../src-main/core.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

describe('uncertainty jobs', () => {
  let harness: JobHarness
  let core: Core
  let model: string
  const resultOf = async (run: string) => (await core.api.getRunResult({ run })).result
  const finished = async (spec: Parameters<Core['api']['startJob']>[0]) => {
    const run = await core.api.startJob(spec)
    const end = await harness.finish(run.uuid, 300_000)
    if (end.state !== 'finished') throw new Error(`${spec.kind} ${end.state}: ${core.store.runs.summary(run.uuid).error}`)
    return run.uuid
  }

  beforeAll(async () => {
    harness = jobHarness({ concurrency: 1 })
    core = harness.core
    model = await finished({ kind: 'train', params: { architecture: 'lenet5-bn', epochs: 1, validationFraction: 0 } })
  }, 300_000)
  afterAll(() => harness.close())

  it('trains a repulsive last-layer ensemble, stores its heads and measures OOD detection against digits', async () => {
    const run = await finished({ kind: 'ensemble-train', params: { model, heads: 3, epochs: 2, trainSamples: 2000, learningRate: 1e-2, samples: 'augment' } })
    const trained = EnsembleTrainResult.parse(await resultOf(run))
    expect(trained).toMatchObject({ members: 3, method: 'last-layer', repulsion: 'function', samples: 'augment' })
    expect(trained.summary.accuracy).toBeGreaterThan(0.6)
    // Digits are far from clothes: any working uncertainty separates them better than chance.
    expect(trained.summary.aurocEntropy!).toBeGreaterThan(0.55)
    expect(trained.summary.meanEpistemic).toBeGreaterThan(0)

    const evaluated = await finished({
      kind: 'uncertainty-evaluate',
      params: { ensemble: run, limit: 500, noise: { point: 'global', sigmas: [0.5, 4] } },
    })
    const result = UncertaintyEvaluateResult.parse(await resultOf(evaluated))
    expect(result.members).toBe(3)
    expect(result.reliability.reduce((s, b) => s + b.count, 0)).toBe(500)
    expect(result.entropy.inDistribution.reduce((a, b) => a + b, 0)).toBe(500)
    expect(result.entropy.outOfDistribution!.reduce((a, b) => a + b, 0)).toBe(500)
    expect(result.rocMi!.at(0)).toEqual({ x: 0, y: 0 })
    expect(result.rocMi!.at(-1)).toEqual({ x: 1, y: 1 })
    expect(result.gallery.mostCertain[0]!.confidence).toBeGreaterThanOrEqual(result.gallery.leastCertain[0]!.confidence)
    expect(result.gallery.mostCertain[0]!.pixels).toHaveLength(784)
    const curve = result.noise!.curve
    expect(curve.map((c) => c.sigma)).toEqual([0, 0.5, 4])
    // σ = 0 is the clean evaluation; strong noise costs accuracy.
    expect(curve[0]!.accuracy).toBeCloseTo(result.summary.accuracy, 10)
    expect(curve[2]!.accuracy).toBeLessThan(curve[0]!.accuracy)

    // The same ensemble with its body on the (nominal) analog model: it still works, and says how it ran.
    const analog = UncertaintyEvaluateResult.parse(
      await resultOf(await finished({ kind: 'uncertainty-evaluate', params: { ensemble: run, limit: 300, oodDataset: null, analog: { layers: 'all' } } })),
    )
    expect(analog.body).toBe('analog (ordered, nominal device, all layers)')
    expect(result.body).toBe('float')
    expect(analog.summary.accuracy).toBeGreaterThan(0.3)
    expect(analog.summary.aurocMi).toBeNull()
  }, 600_000)

  it('evaluates a single model as an ensemble of one and trains a deep ensemble from scratch', async () => {
    const single = UncertaintyEvaluateResult.parse(await resultOf(await finished({ kind: 'uncertainty-evaluate', params: { ensemble: model, limit: 300 } })))
    expect(single.members).toBe(1)
    expect(single.summary.meanEpistemic).toBe(0)
    const deep = EnsembleTrainResult.parse(
      await resultOf(await finished({ kind: 'ensemble-train', params: { model, method: 'deep', heads: 2, epochs: 1, trainSamples: 500 } })),
    )
    expect(deep).toMatchObject({ method: 'deep', members: 2, repulsion: 'none', samples: null })
    expect(deep.summary.disagreement).toBeGreaterThan(0)
  }, 600_000)

  it('runs active learning, is killed with kill -9, and resumes at the round it was in', async () => {
    const params = { model, acquire: 'bald' as const, initial: 50, perRound: 20, rounds: 3, pool: 600, heads: 2, steps: 30 }
    const run = await core.api.startJob({ kind: 'active-learning', params })
    await waitFor(() => core.store.runs.lastSteps(run.uuid).test_accuracy === 0, 240_000, 'the first round')
    process.kill(harness.launched.at(-1)!.pid!, 'SIGKILL')
    expect((await harness.finish(run.uuid)).state).toBe('failed')
    const before = ActiveLearningResult.parse(await resultOf(run.uuid)).rounds
    harness.ended.delete(run.uuid)
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')
    await core.api.resumeJob({ run: run.uuid })
    expect((await harness.finish(run.uuid, 300_000)).state).toBe('finished')
    const rounds = ActiveLearningResult.parse(await resultOf(run.uuid)).rounds
    expect(rounds.map((r) => r.labelled)).toEqual([50, 70, 90, 110])
    expect(rounds.slice(0, before.length)).toEqual(before)
  }, 600_000)

  it('refuses an ensemble of one head, and fails an OOD set of another sample shape with a plain sentence', async () => {
    await expect(core.api.startJob({ kind: 'ensemble-train', params: { model, heads: 1 } })).rejects.toMatchObject({
      code: 'INVALID_ARGS',
      message: /at least 2/,
    })
    const run = await core.api.startJob({ kind: 'uncertainty-evaluate', params: { ensemble: model, oodDataset: 'keywords', limit: 100 } })
    expect((await harness.finish(run.uuid)).state).toBe('failed')
    expect(core.store.runs.summary(run.uuid).error).toMatch(/has 49×10×1 samples but .* has 28×28×1; they must match/)
  }, 120_000)
})

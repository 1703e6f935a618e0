// The compression jobs in real processes on the local board: profile once, search with a kill -9 and a resume,
// baselines, apply to a stored model that evaluates like any other, and bad input that leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import {
  CompressionApplyResult,
  CompressionBaselineResult,
  CompressionProfileResult,
  CompressionSearchResult,
  type Policy,
} from '../../../src-main/contract/index.ts'
import type { Core } from '../../../src-main/core.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

describe('compression jobs', () => {
  let harness: JobHarness
  let core: Core
  let model: string
  const quick = { retrainEpochs: 1, retrainSamples: 200, validationSamples: 200 }
  const schemas = {
    'compression-search': CompressionSearchResult,
    'compression-baseline': CompressionBaselineResult,
    'compression-apply': CompressionApplyResult,
    'compression-profile': CompressionProfileResult,
  }
  /** The run's stored result, read back through its kind's schema. */
  const result = async <K extends keyof typeof schemas>(run: string, kind: K): Promise<z.output<(typeof schemas)[K]>> => {
    const r = await core.api.getRunResult({ run })
    if (r.kind !== kind) throw new Error(`run ${run} is a ${r.kind} run`)
    return schemas[kind].parse(r.result) as z.output<(typeof schemas)[K]>
  }

  beforeAll(async () => {
    harness = jobHarness()
    core = harness.core
    const trained = await core.api.startJob({ kind: 'train', params: { architecture: 'lenet5-bn', epochs: 1, validationFraction: 0 } })
    expect((await harness.finish(trained.uuid)).state).toBe('finished')
    model = trained.uuid
  }, 300_000)
  afterAll(() => harness.close())

  it('profiles the board once: a second profile reads every grid point from the latency table', async () => {
    const first = await core.api.startJob({ kind: 'compression-profile', params: { modelUuid: model } })
    expect((await harness.finish(first.uuid)).state).toBe('finished')
    expect(await result(first.uuid, 'compression-profile')).toMatchObject({ points: 45, measured: 45 })
    const second = await core.api.startJob({ kind: 'compression-profile', params: { modelUuid: model } })
    expect((await harness.finish(second.uuid)).state).toBe('finished')
    expect(await result(second.uuid, 'compression-profile')).toMatchObject({ points: 45, measured: 0 })
    const evaluated = await core.api.evaluatePolicy({ modelUuid: model })
    expect(evaluated.predictionMissing).toBeNull()
    expect(evaluated.predictedLatencyS).toBeGreaterThan(0)
  }, 300_000)

  it('searches, is killed with kill -9, resumes from its stored episodes, and picks the best episode near the target', async () => {
    const params = { modelUuid: model, ...quick, episodes: 6, warmupEpisodes: 2, finalEpochs: 1, target: 0.5, pickWindow: 6 }
    const run = await core.api.startJob({ kind: 'compression-search', params })
    await waitFor(
      () => core.store.runs.lastSteps(run.uuid).accuracy !== undefined && core.store.runs.lastSteps(run.uuid).accuracy! >= 2,
      240_000,
      'three episodes',
    )
    process.kill(harness.launched.at(-1)!.pid!, 'SIGKILL')
    expect((await harness.finish(run.uuid)).state).toBe('failed')
    const before = (await result(run.uuid, 'compression-search')).episodes
    expect(before.length).toBeGreaterThanOrEqual(3)
    harness.ended.delete(run.uuid)
    await waitFor(() => core.jobs.list().length === 0, 10_000, 'process exit')

    await core.api.resumeJob({ run: run.uuid })
    expect((await harness.finish(run.uuid, 300_000)).state).toBe('finished')
    const done: CompressionSearchResult = await result(run.uuid, 'compression-search')
    expect(done.episodes.map((e) => e.episode)).toEqual([0, 1, 2, 3, 4, 5])
    // The episodes stored before the kill are kept as they were, not measured again.
    expect(done.episodes.slice(0, before.length)).toEqual(before)
    for (const e of done.episodes) {
      expect(e.policy).toHaveLength(done.layers.length)
      expect(e.latencyS).toBeGreaterThan(0)
      expect(e.predictedLatencyS).toBeGreaterThan(0)
      expect(e.reward).toBeCloseTo(e.accuracy - 5 * Math.abs(e.latencyRatio / 0.5 - 1), 9)
    }
    expect(done.episodes.slice(0, 2).every((e) => e.source === 'warmup')).toBe(true)
    expect(done.sensitivity).toHaveLength(done.layers.length)
    expect(done.costModelError!.count).toBe(6)
    expect(core.store.runs.lastSteps(run.uuid).reward).toBe(5)
    // The pick is the most accurate episode within ±0.05 of the target, retrained and tested; none in the band, no pick.
    const inBand = done.episodes.filter((e) => Math.abs(e.latencyRatio - 0.5) <= 0.05).sort((a, b) => b.accuracy - a.accuracy)
    if (inBand.length === 0) expect(done.pick).toBeNull()
    else {
      expect(done.pick!.episode).toBe(inBand[0]!.episode)
      expect(done.pick!.testAccuracy).toBeGreaterThan(0.1)
      expect(done.pick!.referenceTestAccuracy).toBeGreaterThan(0.7)
    }
  }, 600_000)

  it('applies a policy: a smaller model that is stored as a model and evaluates with its quantization', async () => {
    const { layers } = await core.api.compressionLayers({ modelUuid: model })
    expect(layers.map((l) => l.id)).toEqual(['conv1', 'conv2', 'fc1', 'fc2'])
    const policy: Policy = {
      format: 'benchside-compression-policy',
      version: 1,
      architecture: 'lenet5-bn',
      layers: layers.map((l) => ({ layer: l.id, keep: 0.5, weightBits: 4, activationBits: 8 })),
    }
    const run = await core.api.startJob({ kind: 'compression-apply', params: { modelUuid: model, policy, epochs: 1, board: 'local' } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const applied = await result(run.uuid, 'compression-apply')
    expect(applied.params).toBeLessThan(applied.referenceParams / 2)
    expect(applied.latencyS).toBeGreaterThan(0)
    expect(applied.testAccuracy).toBeGreaterThan(0.5)
    expect((await core.api.listModels({})).some((m) => m.id === run.uuid)).toBe(true)
    const evaluation = await core.api.startJob({ kind: 'evaluate', params: { model: run.uuid } })
    expect((await harness.finish(evaluation.uuid)).state).toBe('finished')
    expect((await core.api.getRun({ run: evaluation.uuid })).metrics.find((m) => m.key === 'accuracy')!.value).toBe(applied.testAccuracy)
  }, 300_000)

  it('scores uniform, random and sensitivity-greedy baselines like episodes, near the target', async () => {
    for (const kind of ['uniform', 'random', 'greedy'] as const) {
      const run = await core.api.startJob({ kind: 'compression-baseline', params: { modelUuid: model, kind, policies: 3, target: 0.5, ...quick } })
      expect((await harness.finish(run.uuid)).state).toBe('finished')
      const baseline = await result(run.uuid, 'compression-baseline')
      expect(baseline.kind).toBe(kind)
      expect(baseline.episodes.length).toBeGreaterThanOrEqual(1)
      expect(baseline.episodes.length).toBeLessThanOrEqual(3)
      for (const e of baseline.episodes) {
        expect(e.source).toBe(kind)
        expect(e.reward).toBeNull()
        expect(e.latencyS).toBeGreaterThan(0)
      }
      if (kind === 'uniform') {
        for (const e of baseline.episodes)
          expect(new Set(e.policy.filter((l) => l.keep < 1 || l.weightBits < 32).map((l) => `${l.weightBits}/${l.activationBits}`)).size).toBeLessThanOrEqual(1)
      }
      // Greedy stops at the first policy predicted to reach the target.
      if (kind === 'greedy') expect(baseline.episodes.at(-1)!.predictedLatencyS! / baseline.reference.latencyS).toBeLessThan(0.75)
    }
  }, 600_000)

  it('refuses bad input before a run exists: unknown layer, keep or bits out of range, unknown board', async () => {
    const { layers } = await core.api.compressionLayers({ modelUuid: model })
    const good = layers.map((l) => ({ layer: l.id, keep: 1, weightBits: 8, activationBits: 8 }))
    const policy = (entries: unknown[]) => ({ architecture: 'lenet5-bn', layers: entries })
    const runsBefore = (await core.api.listRuns({})).length
    const refused = async (params: Record<string, unknown>, code: string, text: RegExp) => {
      const error = await core.api.startJob({ kind: 'compression-apply', params: { modelUuid: model, ...params } } as never).then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      )
      expect(error?.code).toBe(code)
      expect(error?.message).toMatch(text)
    }
    await refused({ policy: policy([...good.slice(0, 3), { ...good[3]!, layer: 'fc9' }]) }, 'INVALID_ARGS', /fc9/)
    await refused({ policy: policy([{ ...good[0]!, keep: 1.5 }, ...good.slice(1)]) }, 'INVALID_ARGS', /keep must be at most 1/)
    await refused({ policy: policy([{ ...good[0]!, keep: 0 }, ...good.slice(1)]) }, 'INVALID_ARGS', /keep must be above 0/)
    await refused({ policy: policy([{ ...good[0]!, weightBits: 9 }, ...good.slice(1)]) }, 'INVALID_ARGS', /from 1 to 8, or 32/)
    await refused({ policy: policy(good.slice(1)) }, 'INVALID_ARGS', /conv1/)
    await refused({ policy: policy(good), board: 'no-such-board' }, 'INVALID_ARGS', /No board has the id 'no-such-board'/)
    expect((await core.api.listRuns({})).length).toBe(runsBefore)
    await expect(
      core.api.evaluatePolicy({ modelUuid: model, policy: policy([{ ...good[0]!, layer: 'logits' }, ...good.slice(1)]) } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGS',
    })
  }, 60_000)
})

// Shared by the compression search and baselines: scoring one policy as an episode, logging it, and the final pick
// (best validation accuracy near the target latency, retrained longer and tested).
import type { CompressionEpisode, CompressionSearchResult, Policy } from '../contract/index.ts'
import { evaluate } from '../engine/evaluate.ts'
import type { CompressionBench } from './compression-bench.ts'
import type { JobContext } from './context.ts'

export type ScoredPolicy = CompressionEpisode
type FinalPick = NonNullable<CompressionSearchResult['pick']>

/** Episodes within this distance of the target latency ratio count as meeting it. */
export const TARGET_BAND = 0.05

/** The uncompressed model as every search and baseline compares against: validation accuracy, latency and costs. */
export async function referenceOf(bench: CompressionBench, latency: 'measured' | 'predicted'): Promise<CompressionSearchResult['reference']> {
  const policy = bench.referencePolicy()
  const costs = bench.costs(policy)
  const latencyS = latency === 'measured' ? await bench.measure(policy) : bench.predict(policy)
  if (latencyS === null) throw new Error('The reference model has no predicted latency; profile the board first.')
  const scored = await evaluate(bench.reference, bench.dataset, bench.dataset.validation!)
  return { accuracy: scored.accuracy, latencyS, macs: costs.macs, bops: costs.bops, params: costs.params }
}

/** Applies, retrains, validates and times one policy: an episode without its reward. */
export async function scorePolicy(
  bench: CompressionBench,
  policy: Policy,
  p: { retrainEpochs: number; seed: number; latency: 'measured' | 'predicted' },
  referenceLatencyS: number,
  episode: number,
  source: string,
): Promise<Omit<ScoredPolicy, 'reward'>> {
  const outcome = await bench.episode(policy, { epochs: p.retrainEpochs, seed: p.seed * 7919 + episode })
  const started = performance.now()
  const latencyS = p.latency === 'measured' ? await bench.measure(policy) : null
  const measure = (performance.now() - started) / 1000
  const predictedLatencyS = bench.predict(policy)
  const costs = bench.costs(policy)
  const latency = latencyS ?? predictedLatencyS
  if (latency === null) throw new Error('The policy has neither a measured nor a predicted latency; profile the board first.')
  return {
    episode,
    source,
    policy: policy.layers,
    accuracy: outcome.accuracy,
    latencyS,
    predictedLatencyS,
    latencyRatio: latency / referenceLatencyS,
    bops: costs.bops,
    macs: costs.macs,
    seconds: { ...outcome.seconds, measure },
  }
}

export function logEpisode(context: Pick<JobContext, 'metric'>, episode: ScoredPolicy): void {
  const step = episode.episode
  context.metric('accuracy', episode.accuracy, step)
  context.metric('latency_ratio', episode.latencyRatio, step)
  if (episode.latencyS !== null) context.metric('latency_s', episode.latencyS, step)
  if (episode.predictedLatencyS !== null) context.metric('predicted_latency_s', episode.predictedLatencyS, step)
  if (episode.reward !== null) context.metric('reward', episode.reward, step)
  context.metric('episode_seconds', episode.seconds.apply + episode.seconds.retrain + episode.seconds.evaluate + episode.seconds.measure, step)
}

/** The best validation accuracy among episodes within ±TARGET_BAND of the target ratio; null when none is. */
export function finalPick<E extends Pick<ScoredPolicy, 'accuracy' | 'latencyRatio'>>(episodes: readonly E[], target: number): E | null {
  let best: E | null = null
  for (const e of episodes) if (Math.abs(e.latencyRatio - target) <= TARGET_BAND && (!best || e.accuracy > best.accuracy)) best = e
  return best
}

/** Retrains a picked policy on the whole training split and evaluates it and the reference on the test split. */
export async function retrainAndTest(
  bench: CompressionBench,
  candidate: ScoredPolicy,
  epochs: number,
  seed: number,
  onProgress: (fraction: number) => void,
): Promise<FinalPick> {
  const policy: Policy = { ...bench.referencePolicy(), layers: candidate.policy }
  const model = bench.compress(policy)
  try {
    await bench.retrain(model, epochs, null, seed, onProgress)
    const tested = await evaluate(model.net, bench.dataset, bench.dataset.test, { hooks: model.hooks })
    const referenceTested = await evaluate(bench.reference, bench.dataset, bench.dataset.test)
    return {
      episode: candidate.episode,
      policy: candidate.policy,
      validationAccuracy: candidate.accuracy,
      latencyS: candidate.latencyS,
      latencyRatio: candidate.latencyRatio,
      testAccuracy: tested.accuracy,
      referenceTestAccuracy: referenceTested.accuracy,
    }
  } finally {
    model.dispose()
  }
}

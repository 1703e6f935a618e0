// The compression baselines the search is judged against, scored exactly like its episodes: uniform policies swept
// toward the target, random policies near the target, and sensitivity-greedy (compress the least sensitive layer first).
import type { CompressionBaselineResult, CompressibleLayer, LayerPolicy, Policy, SensitivityCurves } from '../../contract/index.ts'
import { sensitivityCurves } from '../../engine/compression/sensitivity.ts'
import { uniformPolicy } from '../../engine/compression/policy.ts'
import { seededRandom } from '../../engine/random.ts'
import { predictionError } from '../../engine/compression/cost-model.ts'
import type { JobContext } from '../context.ts'
import { CompressionBench } from '../compression-bench.ts'
import { logEpisode, referenceOf, scorePolicy } from '../compression-episodes.ts'

/** Bit widths in the order greedy lowers them, weights and activations together. */
const BIT_LADDER = [32, 8, 6, 5, 4, 3, 2] as const
const UNIFORM_KEEPS = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
const UNIFORM_BITS = [32, 8, 6, 4, 3, 2]
const RANDOM_BITS = [32, 8, 7, 6, 5, 4, 3, 2, 1]
const KEEP_STEP = 0.1

export default async function compressionBaselineJob(context: JobContext<'compression-baseline'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model, the dataset and the compute backend')
  const bench = await CompressionBench.open(context, context.inputs.modelJson, context.inputs.dataset, p)
  try {
    context.progress(0.02, 'profiling', `timing the keep × bits grid on '${p.board}'`)
    await bench.profile((done, total) => context.progress(0.02 + 0.08 * (done / total), 'profiling', `${done} of ${total} grid points`))
    const referencePolicy = bench.referencePolicy()
    const reference = await referenceOf(bench, p.latency)
    // The predicted ratio chooses candidates; the measured one is what they are judged by.
    const referencePredicted = bench.predict(referencePolicy)!
    const predictedRatio = (policy: Policy) => bench.predict(policy)! / referencePredicted

    context.progress(0.1, 'choosing', `${p.kind} policies near ×${p.target}`)
    const candidates = await choose(context, bench, predictedRatio)
    const episodes: CompressionBaselineResult['episodes'] = []
    const report = () =>
      context.result({
        modelUuid: context.inputs.modelUuid,
        architecture: bench.architecture,
        board: p.board,
        target: p.target,
        kind: p.kind,
        layers: bench.layers,
        reference,
        episodes,
        costModelError: predictionError(
          episodes.flatMap((e) => (e.latencyS !== null && e.predictedLatencyS !== null ? [{ predicted: e.predictedLatencyS, measured: e.latencyS }] : [])),
        ),
      })
    report()
    for (const [i, policy] of candidates.entries()) {
      if (context.signal.aborted) throw context.signal.reason
      const scored = { ...(await scorePolicy(bench, policy, p, reference.latencyS, i, p.kind)), reward: null }
      episodes.push(scored)
      logEpisode(context, scored)
      report()
      context.progress(
        0.15 + 0.85 * ((i + 1) / candidates.length),
        'scoring',
        `${p.kind} policy ${i + 1} of ${candidates.length} · accuracy ${(scored.accuracy * 100).toFixed(1)}% · latency ×${scored.latencyRatio.toFixed(2)}`,
      )
    }
  } finally {
    bench.dispose()
  }
}

async function choose(context: JobContext<'compression-baseline'>, bench: CompressionBench, ratio: (policy: Policy) => number): Promise<Policy[]> {
  const p = context.params
  if (p.kind === 'uniform') {
    const grid = UNIFORM_KEEPS.flatMap((keep) =>
      UNIFORM_BITS.map((bits) => uniformPolicy(bench.layers, { keep, weightBits: bits, activationBits: bits }, bench.architecture)),
    )
    return nearest(grid, ratio, p.target, p.policies)
  }
  if (p.kind === 'random') {
    const random = seededRandom(p.seed)
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!
    const drawn = Array.from({ length: p.policies * 30 }, () => ({
      ...bench.referencePolicy(),
      layers: bench.layers.map((l): LayerPolicy => ({
        layer: l.id,
        keep: l.prunable ? 0.1 + 0.9 * random() : 1,
        weightBits: pick(RANDOM_BITS),
        activationBits: pick(RANDOM_BITS),
      })),
    }))
    return nearest(drawn, ratio, p.target, p.policies)
  }
  const x = bench.batch(bench.dataset.train, 300)
  let curves: SensitivityCurves[]
  try {
    curves = await sensitivityCurves(bench.reference, x, bench.layers, { channelMultiple: p.channelMultiple, signal: context.signal })
  } finally {
    x.dispose()
  }
  return greedyPath(bench, curves, ratio, p.target, p.policies)
}

/** The n policies whose predicted ratio is closest to the target, cheapest first. */
function nearest(policies: Policy[], ratio: (policy: Policy) => number, target: number, n: number): Policy[] {
  return policies
    .map((policy) => ({ policy, ratio: ratio(policy) }))
    .sort((a, b) => Math.abs(a.ratio - target) - Math.abs(b.ratio - target))
    .slice(0, n)
    .sort((a, b) => a.ratio - b.ratio)
    .map((c) => c.policy)
}

/** KL of compressing one layer to (keep, bits), read off its sensitivity curves (linear between measured points). */
function layerKl(curves: SensitivityCurves | undefined, layer: LayerPolicy): number {
  if (!curves) return 0
  const at = (points: { x: number; kl: number }[], x: number) => {
    const sorted = [...points].sort((a, b) => a.x - b.x)
    if (sorted.length === 0) return 0
    if (x >= sorted.at(-1)!.x) return sorted.at(-1)!.kl
    if (x <= sorted[0]!.x) return sorted[0]!.kl
    const i = sorted.findIndex((p) => p.x >= x)
    const a = sorted[i - 1]!
    const b = sorted[i]!
    return a.kl + ((x - a.x) / (b.x - a.x)) * (b.kl - a.kl)
  }
  const keep = at(
    curves.keep.map((p) => ({ x: p.keep, kl: p.kl })),
    layer.keep,
  )
  const weights =
    layer.weightBits === 32
      ? 0
      : at(
          curves.weightBits.map((p) => ({ x: p.bits, kl: p.kl })),
          layer.weightBits,
        )
  const inputs =
    layer.activationBits === 32
      ? 0
      : at(
          curves.activationBits.map((p) => ({ x: p.bits, kl: p.kl })),
          layer.activationBits,
        )
  return keep + weights + inputs
}

/**
 * From the reference, repeatedly take the one-layer step (keep − 0.1, or the next lower bit width) with the least
 * added sensitivity per predicted second saved, until the predicted ratio reaches the target; n policies along the way.
 */
function greedyPath(bench: CompressionBench, curves: SensitivityCurves[], ratio: (policy: Policy) => number, target: number, n: number): Policy[] {
  let current = bench.referencePolicy()
  const path: Policy[] = []
  const curveOf = (l: CompressibleLayer) => curves.find((c) => c.layer === l.id)
  for (let step = 0; step < 200 && ratio(current) > target; step++) {
    const now = ratio(current)
    let best: { policy: Policy; score: number } | null = null
    bench.layers.forEach((layer, i) => {
      const here = current.layers[i]!
      const moves: LayerPolicy[] = []
      if (layer.prunable && here.keep - KEEP_STEP >= 0.1 - 1e-9) moves.push({ ...here, keep: Math.round((here.keep - KEEP_STEP) * 10) / 10 })
      const rung = BIT_LADDER.indexOf(here.weightBits as (typeof BIT_LADDER)[number])
      if (rung >= 0 && rung < BIT_LADDER.length - 1) moves.push({ ...here, weightBits: BIT_LADDER[rung + 1]!, activationBits: BIT_LADDER[rung + 1]! })
      for (const move of moves) {
        const policy: Policy = { ...current, layers: current.layers.map((l, j) => (j === i ? move : l)) }
        const saved = now - ratio(policy)
        if (saved <= 0) continue
        const score = (layerKl(curveOf(layer), move) - layerKl(curveOf(layer), here)) / saved
        if (!best || score < best.score) best = { policy, score }
      }
    })
    if (!best) break
    current = (best as { policy: Policy }).policy
    path.push(current)
  }
  if (path.length <= n) return path
  // Evenly spaced along the path, always ending at the policy that reached the target.
  return Array.from({ length: n }, (_, k) => path[Math.round(((k + 1) * (path.length - 1)) / n)]!).filter((p, i, all) => all.indexOf(p) === i)
}

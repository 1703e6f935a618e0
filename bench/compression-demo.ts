// The compression demo and benchmark, through the same jobs the UI and CLI start: train LeNet-5-BN on the Fashion-MNIST
// subset, search joint pruning + quantization policies on the local board, score the uniform, random and greedy
// baselines near the same target, retrain the best in-band policy of each (the search's final pick and every baseline's)
// for the same epochs and test them, and report the Pareto comparison, the cost model's error and where an episode's
// time goes. Prints one JSON object.
// Run: node --import tsx bench/compression-demo.ts [--episodes 100] [--target 0.25] [--agent joint|prune|quant] [--architecture lenet5-bn] [--epochs 5]
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { z } from 'zod'
import { AgentKind, CompressionApplyResult, CompressionBaselineResult, CompressionSearchResult, type CompressionEpisode } from '../src-main/contract/index.ts'
import { benchCore } from './bench-core.ts'

const { values } = parseArgs({
  options: {
    episodes: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
    target: { type: 'string', default: '0.25' },
    agent: { type: 'string', default: 'joint' },
    architecture: { type: 'string', default: 'lenet5-bn' },
    epochs: { type: 'string', default: '5' },
    'final-epochs': { type: 'string', default: '3' },
    policies: { type: 'string', default: '12' },
    home: { type: 'string' },
  },
})
const episodes = Number(values.episodes)
const target = Number(values.target)
const finalEpochs = Number(values['final-epochs'])
const bench = benchCore('compression-demo', { home: values.home, concurrency: 1 })
const { core, run, resultOf } = bench

const round = (x: number | null, digits = 4) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? null : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
/** Non-dominated episodes: no other has lower (or equal) latency ratio with higher accuracy. */
const paretoFront = (points: CompressionEpisode[]) =>
  points.filter(
    (p) =>
      !points.some(
        (q) => q !== p && q.latencyRatio <= p.latencyRatio && q.accuracy >= p.accuracy && (q.latencyRatio < p.latencyRatio || q.accuracy > p.accuracy),
      ),
  )
/** Share of baseline points some search episode matches or beats in both accuracy and latency. */
const dominated = (baseline: CompressionEpisode[], search: CompressionEpisode[]) =>
  baseline.length === 0
    ? null
    : baseline.filter((b) => search.some((s) => s.latencyRatio <= b.latencyRatio && s.accuracy >= b.accuracy)).length / baseline.length
const inBand = (e: CompressionEpisode) => Math.abs(e.latencyRatio - target) <= 0.05

const started = performance.now()
try {
  const model = await run({ kind: 'train', params: { architecture: values.architecture, epochs: Number(values.epochs), seed: 1 } })
  const search = await run({
    kind: 'compression-search',
    params: {
      modelUuid: model,
      agent: AgentKind.parse(values.agent),
      episodes,
      warmupEpisodes: Number(values.warmup),
      target,
      finalEpochs,
      pickWindow: episodes,
    },
  })
  const searched = await resultOf(CompressionSearchResult, search)
  const baselines: Record<string, z.output<typeof CompressionBaselineResult>> = {}
  for (const kind of ['uniform', 'random', 'greedy'] as const) {
    baselines[kind] = await resultOf(
      CompressionBaselineResult,
      await run({ kind: 'compression-baseline', params: { modelUuid: model, kind, target, policies: Number(values.policies) } }),
    )
  }
  // Every contender's best in-band policy, retrained the same way and tested: accuracy at the same measured latency.
  const contenders: Record<string, CompressionEpisode[]> = {
    search: searched.episodes,
    ...Object.fromEntries(Object.entries(baselines).map(([k, b]) => [k, b.episodes])),
  }
  const tested: Record<string, unknown> = {}
  for (const [name, points] of Object.entries(contenders)) {
    const best = points.filter(inBand).sort((a, b) => b.accuracy - a.accuracy)[0]
    if (!best) {
      const closest = [...points].sort((a, b) => Math.abs(a.latencyRatio - target) - Math.abs(b.latencyRatio - target))[0]
      tested[name] = { inBand: false, closestRatio: round(closest?.latencyRatio ?? null) }
      continue
    }
    const policy = { architecture: searched.architecture, layers: best.policy }
    const applied = await resultOf(
      CompressionApplyResult,
      await run({ kind: 'compression-apply', params: { modelUuid: model, policy, epochs: finalEpochs, board: 'local' } }),
    )
    tested[name] = {
      inBand: true,
      validationAccuracy: round(best.accuracy),
      testAccuracy: round(applied.testAccuracy),
      referenceTestAccuracy: round(applied.referenceTestAccuracy),
      latencyRatio: round(applied.latencyS! / applied.referenceLatencyS!),
      policy: best.policy.map((l) => `${l.layer}:${l.keep.toFixed(2)}/${l.weightBits}/${l.activationBits}`).join(' '),
    }
  }
  const split = (key: keyof CompressionEpisode['seconds']) => round(median(searched.episodes.map((e) => e.seconds[key])), 3)
  const perEpisode = searched.episodes.map((e) => e.seconds.apply + e.seconds.retrain + e.seconds.evaluate + e.seconds.measure)
  const searchSummary = core.store.runs.summary(search)
  const all = [...searched.episodes, ...Object.values(baselines).flatMap((b) => b.episodes)]
  const errors = all.filter((e) => e.latencyS !== null && e.predictedLatencyS !== null).map((e) => Math.abs(e.predictedLatencyS! - e.latencyS!) / e.latencyS!)
  console.log(
    JSON.stringify(
      {
        architecture: searched.architecture,
        agent: searched.agent,
        target,
        episodes,
        machine: { cores: (await import('node:os')).availableParallelism(), loadAverage: loadavg().map((l) => round(l, 2)) },
        reference: { validationAccuracy: round(searched.reference.accuracy), latencyMs: round(searched.reference.latencyS * 1e3, 4) },
        searchWallSeconds: round(((searchSummary.endTime ?? 0) - (searchSummary.startTime ?? 0)) / 1000, 1),
        episodeSeconds: {
          median: round(median(perEpisode), 3),
          apply: split('apply'),
          retrain: split('retrain'),
          evaluate: split('evaluate'),
          measure: split('measure'),
        },
        smallestRatioReached: round(Math.min(...searched.episodes.map((e) => e.latencyRatio))),
        finalPick: searched.pick && {
          episode: searched.pick.episode,
          latencyRatio: round(searched.pick.latencyRatio),
          testAccuracy: round(searched.pick.testAccuracy),
        },
        atTarget: tested,
        pareto: {
          searchFront: paretoFront(searched.episodes)
            .sort((a, b) => a.latencyRatio - b.latencyRatio)
            .map((e) => [round(e.latencyRatio, 3), round(e.accuracy, 3)]),
          // Each baseline point beside the search's best validation accuracy at the same or lower measured latency.
          baselinePoints: Object.fromEntries(
            Object.entries(baselines).map(([k, b]) => [
              k,
              b.episodes.map((e) => {
                const better = searched.episodes.filter((s) => s.latencyRatio <= e.latencyRatio)
                return {
                  ratio: round(e.latencyRatio, 3),
                  accuracy: round(e.accuracy, 3),
                  searchBest: better.length ? round(Math.max(...better.map((s) => s.accuracy)), 3) : null,
                }
              }),
            ]),
          ),
          baselinePointsDominatedBySearch: Object.fromEntries(
            Object.entries(baselines).map(([k, b]) => [k, round(dominated(b.episodes, searched.episodes), 3)]),
          ),
        },
        costModel: { policies: errors.length, medianError: round(median(errors)), worstError: round(errors.length ? Math.max(...errors) : null) },
        totalSeconds: round((performance.now() - started) / 1000, 1),
      },
      null,
      2,
    ),
  )
} finally {
  bench.close()
}

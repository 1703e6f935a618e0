// Shared display of compression results: the Pareto front, the episodes CSV, marker styles per baseline kind, and
// latency, bits and policy as text.
import { toCsv, type BaselineKind, type CompressionEpisode, type LayerPolicy } from '../../../src-main/contract/index.ts'
import { palette } from '../../lib/palette.ts'

/** Episode points by where their actions came from; baselines by kind, each its own marker. */
export const EPISODE_STYLES = {
  warmup: { label: 'warm-up (random)', color: palette.muted, symbol: 'circle' },
  agent: { label: 'agent', color: palette.accent, symbol: 'circle' },
} as const
export const BASELINE_STYLES: Record<BaselineKind, { color: string; symbol: string }> = {
  uniform: { color: palette.orange, symbol: 'square' },
  random: { color: '#d2a8ff', symbol: 'diamond' },
  greedy: { color: palette.warn, symbol: 'triangle-up' },
}

export interface ParetoPoint {
  latencyRatio: number
  accuracy: number
}

/**
 * The non-dominated points (no other point is at most as slow and at least as accurate, one of them strictly), in
 * order of latency: the best accuracy reachable at each latency.
 */
export function paretoFront<P extends ParetoPoint>(points: readonly P[]): P[] {
  const sorted = [...points].sort((a, b) => a.latencyRatio - b.latencyRatio || b.accuracy - a.accuracy)
  const front: P[] = []
  for (const point of sorted) if (front.length === 0 || point.accuracy > front.at(-1)!.accuracy) front.push(point)
  return front
}

export function bitsText(bits: number): string {
  return bits === 32 ? 'float' : String(bits)
}

/** A layer's policy in a few characters: keep fraction, weight bits / activation bits. */
export function layerPolicyText(l: LayerPolicy): string {
  return `${l.layer}:${Number(l.keep.toFixed(3))}/${bitsText(l.weightBits)}/${bitsText(l.activationBits)}`
}

/** Seconds in the unit that suits them (µs, ms or s). */
export function secondsText(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–'
  if (seconds < 1e-3) return `${(seconds * 1e6).toPrecision(3)} µs`
  if (seconds < 1) return `${(seconds * 1e3).toPrecision(3)} ms`
  return `${seconds.toPrecision(3)} s`
}

export function ratioText(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '–' : `${ratio.toFixed(3)}×`
}

/** One row per episode, the policy as `layer:keep/wbits/abits` joined by spaces (float spelled out). */
export function episodesCsv(episodes: readonly CompressionEpisode[]): string {
  return toCsv([
    [
      'episode',
      'source',
      'accuracy',
      'latency_ratio',
      'latency_s',
      'predicted_latency_s',
      'reward',
      'macs',
      'bops',
      'seconds_apply',
      'seconds_retrain',
      'seconds_evaluate',
      'seconds_measure',
      'policy',
    ],
    ...episodes.map((e) => [
      e.episode,
      e.source,
      e.accuracy,
      e.latencyRatio,
      e.latencyS,
      e.predictedLatencyS,
      e.reward,
      e.macs,
      e.bops,
      e.seconds.apply,
      e.seconds.retrain,
      e.seconds.evaluate,
      e.seconds.measure,
      e.policy.map(layerPolicyText).join(' '),
    ]),
  ])
}

// Statistics of each layer's kernel (dense, conv, depthwise), to see what noisy training does to weights: mean |w|,
// std, the fraction of weights near the extremes and a histogram over fixed bins.
import type { Network } from './network.ts'

export interface WeightHistogram {
  /** bins + 1 edges from −limit to +limit. */
  edges: number[]
  counts: number[]
  /** Weights beyond ±limit (counted in the outermost bins as well). */
  outside: number
}

export interface LayerWeightStats {
  point: string
  count: number
  meanAbs: number
  /** Population standard deviation of the weights. */
  std: number
  maxAbs: number
  /** Fraction of weights with |w| > nearExtreme · max|w| of the layer. */
  nearExtremeFraction: number
  histogram: WeightHistogram
}

export interface WeightStatsOptions {
  /** Near-extreme threshold as a fraction of the layer's max |w| (default 0.9). */
  nearExtreme?: number
  /** Histogram bins (default 41). */
  bins?: number
  /** Histogram range ±limit; default the layer's max |w|. Give a fixed limit to compare runs bin by bin. */
  limit?: number
}

/** Stats of one array of weights. */
export function weightStats(point: string, values: ArrayLike<number>, options: WeightStatsOptions = {}): LayerWeightStats {
  const n = values.length
  const nearExtreme = options.nearExtreme ?? 0.9
  const bins = options.bins ?? 41
  let sum = 0
  let sumAbs = 0
  let maxAbs = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    sum += v
    sumAbs += Math.abs(v)
    maxAbs = Math.max(maxAbs, Math.abs(v))
  }
  const mean = n ? sum / n : 0
  let squares = 0
  let near = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    squares += (v - mean) ** 2
    if (Math.abs(v) > nearExtreme * maxAbs) near++
  }
  const limit = options.limit ?? maxAbs
  const edges = Array.from({ length: bins + 1 }, (_, i) => -limit + (2 * limit * i) / bins)
  const counts = new Array<number>(bins).fill(0)
  let outside = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    if (Math.abs(v) > limit) outside++
    const bin = limit > 0 ? Math.floor(((v + limit) / (2 * limit)) * bins) : Math.floor(bins / 2)
    counts[Math.min(bins - 1, Math.max(0, bin))]!++
  }
  return {
    point,
    count: n,
    meanAbs: n ? sumAbs / n : 0,
    std: n ? Math.sqrt(squares / n) : 0,
    maxAbs,
    nearExtremeFraction: n ? near / n : 0,
    histogram: { edges, counts, outside },
  }
}

/** One entry per dense, conv and depthwise layer, in graph order (the kernel only; biases and batch norm are left out). */
export function networkWeightStats(net: Network, options: WeightStatsOptions = {}): LayerWeightStats[] {
  return net.points
    .filter((p) => p.op === 'dense' || p.op === 'conv2d' || p.op === 'depthwiseConv2d')
    .map((p) => {
      const kernel = net.layer(p.id)!.trainableWeights[0]!.read()
      return weightStats(p.id, kernel.dataSync(), options)
    })
}

// Calibration of the top-1 confidence: expected and maximum calibration error over equal-width bins, adaptive ECE over
// equal-mass bins, and the reliability diagram (with the confidence histogram) behind them.
import { checkLabelled, checkWhole, topOne, type TopOne } from './inputs.ts'

/** Bins used when none are given (Guo et al. 2017). */
export const DEFAULT_BINS = 15

/** One equal-width bin (lower, upper] of top-1 confidence. */
export interface ReliabilityBin {
  lower: number
  upper: number
  /** Samples in the bin: the confidence histogram. */
  count: number
  /** Mean top-1 confidence of the bin's samples, null when the bin is empty. */
  meanConfidence: number | null
  /** Fraction of the bin's samples whose argmax is the label, null when the bin is empty. */
  accuracy: number | null
}

/**
 * The B equal-width bins of top-1 confidence: bin i is (i/B, (i+1)/B], and a confidence of exactly 0 goes in bin 0.
 * Edges are compared at float32 precision, the inputs' precision (as the float32 reference implementations do): a
 * confidence stored as 0.6f sits in (0.4, 0.6], though 0.6f is a hair above 0.6. Confidences above 1 go in the last bin.
 */
export function reliabilityDiagram(probs: Float32Array, labels: Int32Array, classes: number, bins = DEFAULT_BINS): ReliabilityBin[] {
  checkLabelled(probs, labels, classes)
  checkWhole(bins, 'number of bins', 1)
  return binned(topOne(probs, labels, classes), bins)
}

/** Expected calibration error (L1): Σ_b (n_b/N)·|acc_b − conf_b| over the equal-width bins of {@link reliabilityDiagram}. */
export function ece(probs: Float32Array, labels: Int32Array, classes: number, bins = DEFAULT_BINS): number {
  return eceOf(reliabilityDiagram(probs, labels, classes, bins))
}

/** Maximum calibration error: max over the non-empty equal-width bins of |acc_b − conf_b|. */
export function mce(probs: Float32Array, labels: Int32Array, classes: number, bins = DEFAULT_BINS): number {
  return mceOf(reliabilityDiagram(probs, labels, classes, bins))
}

/**
 * Adaptive ECE over equal-mass bins: samples sorted by top-1 confidence ascending (equal confidences in sample order),
 * group g = sorted positions ⌊g·N/B⌋ … ⌊(g+1)·N/B⌋ − 1 (so ⌊N/B⌋ or ⌈N/B⌉ samples; empty groups when N < B are
 * skipped), and Σ_g (n_g/N)·|acc_g − conf_g|.
 */
export function adaptiveEce(probs: Float32Array, labels: Int32Array, classes: number, bins = DEFAULT_BINS): number {
  const samples = checkLabelled(probs, labels, classes)
  checkWhole(bins, 'number of bins', 1)
  const { confidence, correct } = topOne(probs, labels, classes)
  const order = Uint32Array.from({ length: samples }, (_, i) => i).sort((a, b) => confidence[a]! - confidence[b]! || a - b)
  let total = 0
  for (let g = 0; g < bins; g++) {
    const start = Math.floor((g * samples) / bins)
    const end = Math.floor(((g + 1) * samples) / bins)
    if (end === start) continue
    let conf = 0
    let hits = 0
    for (let k = start; k < end; k++) {
      const i = order[k]!
      conf += confidence[i]!
      hits += correct[i]!
    }
    // (n_g/N)·|hits/n_g − conf/n_g| = |hits − conf|/N.
    total += Math.abs(hits - conf)
  }
  return total / samples
}

/** ECE from bins already built by {@link reliabilityDiagram}, so a caller bins once for ECE, MCE and the plot. */
export function eceOf(diagram: readonly ReliabilityBin[]): number {
  let samples = 0
  let total = 0
  for (const bin of diagram) {
    if (bin.meanConfidence === null || bin.accuracy === null) continue
    samples += bin.count
    total += bin.count * Math.abs(bin.accuracy - bin.meanConfidence)
  }
  return total / samples
}

/** MCE from bins already built by {@link reliabilityDiagram}. */
export function mceOf(diagram: readonly ReliabilityBin[]): number {
  let worst = 0
  for (const bin of diagram) {
    if (bin.meanConfidence === null || bin.accuracy === null) continue
    worst = Math.max(worst, Math.abs(bin.accuracy - bin.meanConfidence))
  }
  return worst
}

function binned({ confidence, correct }: TopOne, bins: number): ReliabilityBin[] {
  const counts = new Float64Array(bins)
  const confSum = new Float64Array(bins)
  const hitSum = new Float64Array(bins)
  // Upper edges at float32, the precision the confidences were stored in.
  const upper = Float32Array.from({ length: bins }, (_, b) => (b + 1) / bins)
  for (let i = 0; i < confidence.length; i++) {
    const c = confidence[i]!
    let b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1))
    while (b > 0 && c <= upper[b - 1]!) b--
    while (b < bins - 1 && c > upper[b]!) b++
    counts[b]!++
    confSum[b]! += c
    hitSum[b]! += correct[i]!
  }
  return Array.from({ length: bins }, (_, b) => {
    const count = counts[b]!
    return {
      lower: b / bins,
      upper: (b + 1) / bins,
      count,
      meanConfidence: count > 0 ? confSum[b]! / count : null,
      accuracy: count > 0 ? hitSum[b]! / count : null,
    }
  })
}

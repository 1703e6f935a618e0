// Selective prediction: the risk–coverage curve (error rate among the k most certain samples) and its area, AURC.
import { DEFAULT_MAX_POINTS, checkLabelled, checkScores, thinIndices, topOne, type Scores } from './inputs.ts'

export interface RiskCoverageOptions {
  /** Per-sample uncertainty (lower = more certain) to rank by instead of the top-1 confidence. */
  uncertainty?: Scores
  /** Points the curve is thinned to, keeping k = 1 and k = N exactly. */
  maxPoints?: number
}

export interface RiskCoverage {
  /** k/N for the kept k. */
  coverage: number[]
  /** Error rate among the k most certain samples, for the kept k. */
  risk: number[]
  /** (1/N) Σ_{k=1..N} risk_k over every k, not only the kept ones. */
  aurc: number
}

/**
 * Ranks samples by top-1 confidence descending (or by `uncertainty` ascending; equal keys keep sample order), then for
 * k = 1…N gives coverage k/N and risk_k = (errors among the first k)/k, an error being argmax ≠ label. AURC is the
 * discrete mean (1/N) Σ_k risk_k (Geifman et al. 2019), not a trapezoid over coverage.
 */
export function riskCoverage(probs: Float32Array, labels: Int32Array, classes: number, options: RiskCoverageOptions = {}): RiskCoverage {
  const samples = checkLabelled(probs, labels, classes)
  const { confidence, correct } = topOne(probs, labels, classes)
  const { uncertainty } = options
  let key: Scores
  if (uncertainty === undefined) {
    key = confidence.map((c) => -c)
  } else {
    checkScores(uncertainty, 'The uncertainties')
    if (uncertainty.length !== samples) throw new Error(`There are ${uncertainty.length} uncertainties for ${samples} samples; give one per sample.`)
    key = uncertainty
  }
  const order = Uint32Array.from({ length: samples }, (_, i) => i).sort((a, b) => key[a]! - key[b]! || a - b)
  const risks = new Float64Array(samples)
  let errors = 0
  let riskSum = 0
  for (let k = 0; k < samples; k++) {
    errors += 1 - correct[order[k]!]!
    const risk = errors / (k + 1)
    risks[k] = risk
    riskSum += risk
  }
  const kept = thinIndices(samples, options.maxPoints ?? DEFAULT_MAX_POINTS)
  return { coverage: kept.map((k) => (k + 1) / samples), risk: kept.map((k) => risks[k]!), aurc: riskSum / samples }
}

/** Area under the risk–coverage curve, the discrete mean of {@link riskCoverage}. */
export function aurc(probs: Float32Array, labels: Int32Array, classes: number, uncertainty?: Scores): number {
  return riskCoverage(probs, labels, classes, uncertainty === undefined ? {} : { uncertainty }).aurc
}

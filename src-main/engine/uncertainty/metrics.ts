// Scalar and per-sample metrics of softmax outputs: accuracy, NLL, Brier, and an ensemble's uncertainty (total,
// aleatoric, epistemic), member disagreement and pairwise KL. Every log is natural: entropies and KL are in nats.
import { PROB_FLOOR, argmaxRow, checkLabelled, checkMembers, checkProbs } from './inputs.ts'

/** p̄ = (1/M) Σ_m p_m, elementwise over the members' N×C probabilities (accumulated in float64). */
export function predictiveMean(members: readonly Float32Array[], classes: number): Float32Array {
  checkMembers(members, classes)
  return Float32Array.from(meanOf(members))
}

/** Fraction of samples whose argmax (a tie goes to the lowest class) equals the label. */
export function accuracy(probs: Float32Array, labels: Int32Array, classes: number): number {
  const samples = checkLabelled(probs, labels, classes)
  let hits = 0
  for (let i = 0; i < samples; i++) if (argmaxRow(probs, i * classes, classes) === labels[i]!) hits++
  return hits / samples
}

/** Negative log-likelihood in nats: (1/N) Σ_i −ln max(p_{i,y_i}, 1e-12). */
export function nll(probs: Float32Array, labels: Int32Array, classes: number): number {
  const samples = checkLabelled(probs, labels, classes)
  let sum = 0
  for (let i = 0; i < samples; i++) sum -= Math.log(Math.max(probs[i * classes + labels[i]!]!, PROB_FLOOR))
  return sum / samples
}

/**
 * Multi-class Brier score: (1/N) Σ_i Σ_c (p_{i,c} − 1[c = y_i])², in [0, 2]. The sum over classes is NOT divided by C
 * (some libraries divide by C; this one follows Brier 1950 and Lakshminarayanan et al. 2017).
 */
export function brier(probs: Float32Array, labels: Int32Array, classes: number): number {
  const samples = checkLabelled(probs, labels, classes)
  let sum = 0
  for (let i = 0; i < samples; i++) {
    const row = i * classes
    const y = labels[i]!
    for (let c = 0; c < classes; c++) {
      const d = probs[row + c]! - (c === y ? 1 : 0)
      sum += d * d
    }
  }
  return sum / samples
}

/** Per sample, the entropy H[p] = −Σ_c p_c ln p_c in nats, with 0·ln 0 = 0. */
export function predictiveEntropy(probs: Float32Array, classes: number): Float64Array {
  const samples = checkProbs(probs, classes)
  const out = new Float64Array(samples)
  for (let i = 0; i < samples; i++) out[i] = rowEntropy(probs, i * classes, classes)
  return out
}

/** Per-sample uncertainty of an ensemble, in nats; total = aleatoric + epistemic. */
export interface UncertaintyDecomposition {
  /** Predictive entropy H[p̄] of the members' mean p̄. */
  total: Float64Array
  /** Expected entropy (1/M) Σ_m H[p_m]: the noise every member sees. */
  aleatoric: Float64Array
  /** Mutual information H[p̄] − (1/M) Σ_m H[p_m] ≥ 0, with negatives from rounding clamped to 0: the members' disagreement. */
  epistemic: Float64Array
}

/** Total, aleatoric and epistemic uncertainty per sample (definitions on {@link UncertaintyDecomposition}). */
export function uncertaintyDecomposition(members: readonly Float32Array[], classes: number): UncertaintyDecomposition {
  const samples = checkMembers(members, classes)
  const mean = meanOf(members)
  const total = new Float64Array(samples)
  const aleatoric = new Float64Array(samples)
  const epistemic = new Float64Array(samples)
  for (let i = 0; i < samples; i++) {
    const row = i * classes
    let expected = 0
    for (const member of members) expected += rowEntropy(member, row, classes)
    expected /= members.length
    const h = rowEntropy(mean, row, classes)
    total[i] = h
    aleatoric[i] = expected
    // Jensen makes H[p̄] ≥ mean H[p_m]; a negative difference is rounding only.
    epistemic[i] = Math.max(0, h - expected)
  }
  return { total, aleatoric, epistemic }
}

/**
 * Mean over samples of the fraction of members whose argmax differs from the ensemble's argmax (argmax of p̄; ties go
 * to the lowest class for both). 0 for a single member.
 */
export function disagreement(members: readonly Float32Array[], classes: number): number {
  const samples = checkMembers(members, classes)
  const mean = meanOf(members)
  let sum = 0
  for (let i = 0; i < samples; i++) {
    const row = i * classes
    const ensemble = argmaxRow(mean, row, classes)
    let differing = 0
    for (const member of members) if (argmaxRow(member, row, classes) !== ensemble) differing++
    sum += differing / members.length
  }
  return sum / samples
}

/**
 * Mean pairwise KL divergence in nats: (1/N) Σ_i (1/(M(M−1))) Σ_{m≠k} KL(p_{m,i} ‖ p_{k,i}) over ordered pairs, with
 * KL(p ‖ q) = Σ_c p_c (ln max(p_c, 1e-12) − ln max(q_c, 1e-12)) (so a class with p_c = 0 adds 0). 0 for a single member.
 * Runs in O(M·N·C): Σ_{m≠k} KL(p_m ‖ p_k) = M Σ_m Σ_c p_{m,c} L_{m,c} − Σ_c (Σ_m p_{m,c})(Σ_k L_{k,c}), L = ln max(p, 1e-12).
 */
export function meanPairwiseKl(members: readonly Float32Array[], classes: number): number {
  const samples = checkMembers(members, classes)
  const count = members.length
  if (count < 2) return 0
  const probSum = new Float64Array(classes)
  const logSum = new Float64Array(classes)
  let sum = 0
  for (let i = 0; i < samples; i++) {
    const row = i * classes
    probSum.fill(0)
    logSum.fill(0)
    let self = 0
    for (const member of members) {
      for (let c = 0; c < classes; c++) {
        const p = member[row + c]!
        const log = Math.log(Math.max(p, PROB_FLOOR))
        self += p * log
        probSum[c]! += p
        logSum[c]! += log
      }
    }
    let cross = 0
    for (let c = 0; c < classes; c++) cross += probSum[c]! * logSum[c]!
    // Each ordered pair's KL is ≥ 0; a negative total is cancellation in the identity.
    sum += Math.max(0, count * self - cross) / (count * (count - 1))
  }
  return sum / samples
}

/** The members' mean in float64 (checked members). */
function meanOf(members: readonly Float32Array[]): Float64Array {
  const first = members[0]!
  const mean = new Float64Array(first.length)
  for (const member of members) for (let j = 0; j < member.length; j++) mean[j]! += member[j]!
  const scale = 1 / members.length
  for (let j = 0; j < mean.length; j++) mean[j]! *= scale
  return mean
}

/** −Σ_c p_c ln p_c over one row, 0·ln 0 = 0. */
function rowEntropy(values: ArrayLike<number>, offset: number, classes: number): number {
  let h = 0
  for (let c = 0; c < classes; c++) {
    const p = values[offset + c]!
    if (p > 0) h -= p * Math.log(p)
  }
  return h
}

// Out-of-distribution detection from per-sample scores where HIGHER means "more likely OOD" (entropy, mutual
// information): AUROC, AUPR (average precision), FPR at 95% TPR and the ROC curve. OOD is the positive class.
import { DEFAULT_MAX_POINTS, checkScores, thinIndices, type Scores } from './inputs.ts'

/**
 * AUROC = P(s_ood > s_in) + ½·P(s_ood = s_in) over all (OOD, in-distribution) pairs: the Mann–Whitney U statistic over
 * n_ood·n_in. Computed in O(n log n) as the trapezoid area under the ROC curve of {@link rocCurve} (ties make a diagonal
 * step, which is exactly the ½). 1 = perfect separation, 0.5 = chance, 0 = inverted.
 */
export function auroc(inScores: Scores, oodScores: Scores): number {
  const { tp, fp, positives, negatives } = sweep(inScores, oodScores)
  let twiceArea = 0
  for (let k = 1; k < tp.length; k++) twiceArea += (fp[k]! - fp[k - 1]!) * (tp[k]! + tp[k - 1]!)
  return twiceArea / (2 * positives * negatives)
}

/**
 * Average precision with OOD positive: thresholds t_1 > t_2 > … at each distinct score, "flag s ≥ t_k", so a block of
 * equal scores is flagged together; with R_k = TP_k/n_ood, P_k = TP_k/(TP_k + FP_k) and R_0 = 0,
 * AP = Σ_k (R_k − R_{k−1})·P_k (a step sum, no interpolation; as scikit-learn's average_precision_score).
 */
export function aupr(inScores: Scores, oodScores: Scores): number {
  const { tp, fp, positives } = sweep(inScores, oodScores)
  let ap = 0
  for (let k = 1; k < tp.length; k++) {
    const gained = tp[k]! - tp[k - 1]!
    if (gained > 0) ap += (gained / positives) * (tp[k]! / (tp[k]! + fp[k]!))
  }
  return ap
}

/**
 * FPR at a TPR target (default 0.95): over the thresholds of {@link aupr} (each block of equal scores flagged whole),
 * the smallest FPR = FP_k/n_in among those with TPR = TP_k/n_ood ≥ target. The target is met when TP_k ≥ target·n_ood
 * up to 1e-9, so 19 of 20 positives meets 0.95 despite float rounding.
 */
export function fprAtTpr(inScores: Scores, oodScores: Scores, tpr = 0.95): number {
  if (!(tpr > 0 && tpr <= 1)) throw new Error(`The TPR target is ${tpr}; it must be a number in (0, 1].`)
  const { tp, fp, positives, negatives } = sweep(inScores, oodScores)
  const needed = Math.ceil(tpr * positives - 1e-9)
  // TP and FP only grow along the sweep, so the first threshold reaching the target has the smallest FPR.
  let k = 0
  while (tp[k]! < needed) k++
  return fp[k]! / negatives
}

/** ROC points (FPR, TPR) for plotting. */
export interface RocCurve {
  fpr: number[]
  tpr: number[]
}

/**
 * The ROC curve from (0, 0) through one point per distinct score (thresholds as in {@link aupr}) to (1, 1), thinned
 * evenly to at most maxPoints (default 200) keeping both endpoints exactly.
 */
export function rocCurve(inScores: Scores, oodScores: Scores, maxPoints = DEFAULT_MAX_POINTS): RocCurve {
  const { tp, fp, positives, negatives } = sweep(inScores, oodScores)
  const kept = thinIndices(tp.length, maxPoints)
  return { fpr: kept.map((k) => fp[k]! / negatives), tpr: kept.map((k) => tp[k]! / positives) }
}

/** Cumulative true and false positives after each threshold, from (0, 0) before the first to (n_ood, n_in) after the last. */
interface Sweep {
  tp: Float64Array
  fp: Float64Array
  positives: number
  negatives: number
}

/** Sorts each side natively (no comparator) and merges from the top, taking every score equal to the threshold at once. */
function sweep(inScores: Scores, oodScores: Scores): Sweep {
  checkScores(inScores, 'The in-distribution scores')
  checkScores(oodScores, 'The OOD scores')
  const negative = Float64Array.from(inScores).sort()
  const positive = Float64Array.from(oodScores).sort()
  const tp = new Float64Array(negative.length + positive.length + 1)
  const fp = new Float64Array(tp.length)
  let i = negative.length - 1
  let j = positive.length - 1
  let k = 0
  while (i >= 0 || j >= 0) {
    const threshold = Math.max(i >= 0 ? negative[i]! : -Infinity, j >= 0 ? positive[j]! : -Infinity)
    let falsePositives = fp[k]!
    let truePositives = tp[k]!
    while (i >= 0 && negative[i]! === threshold) {
      i--
      falsePositives++
    }
    while (j >= 0 && positive[j]! === threshold) {
      j--
      truePositives++
    }
    k++
    fp[k] = falsePositives
    tp[k] = truePositives
  }
  return { tp: tp.subarray(0, k + 1), fp: fp.subarray(0, k + 1), positives: positive.length, negatives: negative.length }
}

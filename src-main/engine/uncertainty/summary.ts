// Every scalar uncertainty metric of an ensemble in one object: accuracy, calibration, uncertainty decomposition,
// selective prediction, and OOD detection when OOD members are given. Entropies and KL in nats.
import { DEFAULT_BINS, adaptiveEce, eceOf, mceOf, reliabilityDiagram } from './calibration.ts'
import { checkMembers } from './inputs.ts'
import { accuracy, brier, disagreement, meanPairwiseKl, nll, predictiveMean, uncertaintyDecomposition } from './metrics.ts'
import { aupr, auroc, fprAtTpr } from './ood.ts'
import { aurc } from './risk-coverage.ts'

export interface SummaryInput {
  /** The ensemble's members on in-distribution data, each N×C softmax probabilities. */
  members: readonly Float32Array[]
  labels: Int32Array
  classes: number
  /** The same ensemble's members on OOD data (any number of samples), for the OOD metrics. */
  oodMembers?: readonly Float32Array[]
  /** Equal-width (ECE, MCE) and equal-mass (adaptive ECE) bins; 15 by default. */
  bins?: number
}

/** Metrics of the mean predictive p̄ unless noted; see each function for its exact definition. */
export interface UncertaintySummary {
  accuracy: number
  nll: number
  brier: number
  ece: number
  mce: number
  adaptiveEce: number
  /** Mean over samples of H[p̄] (total uncertainty). */
  meanEntropy: number
  /** Mean over samples of (1/M) Σ_m H[p_m]. */
  meanAleatoric: number
  /** Mean over samples of the mutual information. */
  meanEpistemic: number
  disagreement: number
  meanPairwiseKl: number
  /** Ranked by top-1 confidence of p̄. */
  aurc: number
  /** OOD metrics (OOD positive), scored by H[p̄] (…Entropy) or by the mutual information (…Mi); only with oodMembers. */
  aurocEntropy?: number
  aurocMi?: number
  auprEntropy?: number
  auprMi?: number
  fpr95Entropy?: number
  fpr95Mi?: number
}

export function summarize({ members, labels, classes, oodMembers, bins = DEFAULT_BINS }: SummaryInput): UncertaintySummary {
  // Check the OOD members up front so bad input fails before the in-distribution work.
  if (oodMembers !== undefined) checkMembers(oodMembers, classes, 'The OOD ensemble')
  const probs = predictiveMean(members, classes)
  const diagram = reliabilityDiagram(probs, labels, classes, bins)
  const inDist = uncertaintyDecomposition(members, classes)
  const summary: UncertaintySummary = {
    accuracy: accuracy(probs, labels, classes),
    nll: nll(probs, labels, classes),
    brier: brier(probs, labels, classes),
    ece: eceOf(diagram),
    mce: mceOf(diagram),
    adaptiveEce: adaptiveEce(probs, labels, classes, bins),
    meanEntropy: mean(inDist.total),
    meanAleatoric: mean(inDist.aleatoric),
    meanEpistemic: mean(inDist.epistemic),
    disagreement: disagreement(members, classes),
    meanPairwiseKl: meanPairwiseKl(members, classes),
    aurc: aurc(probs, labels, classes),
  }
  if (oodMembers === undefined) return summary
  const ood = uncertaintyDecomposition(oodMembers, classes)
  return {
    ...summary,
    aurocEntropy: auroc(inDist.total, ood.total),
    aurocMi: auroc(inDist.epistemic, ood.epistemic),
    auprEntropy: aupr(inDist.total, ood.total),
    auprMi: aupr(inDist.epistemic, ood.epistemic),
    fpr95Entropy: fprAtTpr(inDist.total, ood.total),
    fpr95Mi: fprAtTpr(inDist.epistemic, ood.epistemic),
  }
}

function mean(values: Float64Array): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  return sum / values.length
}

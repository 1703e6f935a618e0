// The compression search's rewards: how good one episode's compressed network is, from its accuracy and its cost
// relative to the reference (uncompressed) network.
import type { RewardKind } from '../../contract/compression.ts'

export interface RewardInput {
  /** Validation accuracy of the compressed network, in [0,1]. */
  accuracy: number
  /** The reference network's validation accuracy, in (0,1] (log-cost divides by it). */
  referenceAccuracy: number
  /** Latency over the reference network's latency, > 0. */
  latencyRatio: number
  /** The latency ratio aimed at, > 0 (ρ). */
  target: number
  /** The compressed network's absolute MAC count, > 0 (amc). */
  macs: number
  /** The exponent or weight β; default −5 for r6, −0.05 for target-power, unused otherwise. */
  beta?: number
}

const DEFAULT_BETA: Partial<Record<RewardKind, number>> = { r6: -5, 'target-power': -0.05 }

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message)
}

/**
 * - r6: acc + β·|latencyRatio/target − 1|, penalising distance from the target on either side.
 * - target-power: acc at or under the target, else acc·(latencyRatio/target)^β.
 * - log-cost: −log(latencyRatio)·acc/referenceAccuracy.
 * - amc: AMC's R_FLOPs = −error·log(FLOPs) with the absolute MAC count. It has to be absolute: with a ratio ≤ 1 the
 *   log is ≤ 0 and the reward would grow with the error; with absolute MACs (log > 0 for any real network) it grows as
 *   both error and MACs fall.
 */
export function reward(kind: RewardKind, x: RewardInput): number {
  const { accuracy, referenceAccuracy, latencyRatio, target, macs } = x
  check(Number.isFinite(accuracy) && accuracy >= 0 && accuracy <= 1, `accuracy must be in [0, 1], got ${accuracy}`)
  check(Number.isFinite(referenceAccuracy) && referenceAccuracy > 0 && referenceAccuracy <= 1, `referenceAccuracy must be in (0, 1], got ${referenceAccuracy}`)
  check(Number.isFinite(latencyRatio) && latencyRatio > 0, `latencyRatio must be a positive number, got ${latencyRatio}`)
  check(Number.isFinite(target) && target > 0, `target must be a positive number, got ${target}`)
  check(Number.isFinite(macs) && macs > 0, `macs must be a positive number, got ${macs}`)
  const beta = x.beta ?? DEFAULT_BETA[kind] ?? 0
  check(Number.isFinite(beta), `beta must be a finite number, got ${beta}`)
  switch (kind) {
    case 'r6':
      return accuracy + beta * Math.abs(latencyRatio / target - 1)
    case 'target-power':
      return latencyRatio <= target ? accuracy : accuracy * (latencyRatio / target) ** beta
    case 'log-cost':
      return (-Math.log(latencyRatio) * accuracy) / referenceAccuracy
    case 'amc':
      return -(1 - accuracy) * Math.log(macs)
  }
}

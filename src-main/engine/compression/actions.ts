// The agent's actions in [0,1] turned into a layer's policy: how much of it to keep (AMC) and how many bits its
// weights and input activations get (HAQ-style ratios: a higher action always means more compression).
import type { AgentKind, LayerPolicy } from '../../contract/compression.ts'

/** The smallest fraction of a prunable layer's channels the agent may keep. */
export const MIN_KEEP = 0.1

/** How many actions the agent takes per layer, in the order layerPolicyFromActions reads them. */
export const ACTIONS_PER_LAYER: Record<AgentKind, number> = { prune: 1, quant: 2, joint: 3 }

function checkUnit(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${what} must be a number from 0 to 1, got ${value}`)
}

/**
 * A compression ratio in [0,1] to bits: above 0.5 is mixed precision, 1…maxBits bits (1 at ratio 1, maxBits just above
 * 0.5); (0.2, 0.5] is int8; up to 0.2 stays float (32).
 */
export function ratioToBits(ratio: number, maxBits = 6): number {
  checkUnit(ratio, 'A bit-width ratio')
  if (!Number.isInteger(maxBits) || maxBits < 1 || maxBits > 8) throw new Error(`maxBits must be a whole number from 1 to 8, got ${maxBits}`)
  if (ratio <= 0.2) return 32
  if (ratio <= 0.5) return 8
  const r = (ratio - 0.5) / 0.5
  return Math.min(maxBits, Math.max(1, Math.floor((1 - r) * maxBits) + 1))
}

/** A pruning action a (how much to prune, in [0,1]) to the fraction of channels kept, in [MIN_KEEP, 1]. */
export function actionToKeep(a: number): number {
  checkUnit(a, 'A pruning action')
  return Math.min(1, Math.max(MIN_KEEP, 1 - a * (1 - MIN_KEEP)))
}

/**
 * One layer's policy from the agent's actions for it: prune [keep action], quant [activation ratio, weight ratio],
 * joint [keep action, activation ratio, weight ratio]. A layer that may not be pruned keeps all its channels.
 */
export function layerPolicyFromActions(agent: AgentKind, actions: readonly number[], layer: { id: string; prunable: boolean }, maxBits: number): LayerPolicy {
  const expected = ACTIONS_PER_LAYER[agent]
  if (actions.length !== expected) {
    throw new Error(`The '${agent}' agent takes ${expected} action${expected === 1 ? '' : 's'} per layer, got ${actions.length} for layer '${layer.id}'`)
  }
  actions.forEach((a, i) => checkUnit(a, `Action ${i} for layer '${layer.id}'`))
  const pruneAction = agent === 'quant' ? null : actions[0]!
  const keep = pruneAction === null || !layer.prunable ? 1 : actionToKeep(pruneAction)
  if (agent === 'prune') return { layer: layer.id, keep, weightBits: 32, activationBits: 32 }
  const offset = agent === 'joint' ? 1 : 0
  return {
    layer: layer.id,
    keep,
    activationBits: ratioToBits(actions[offset]!, maxBits),
    weightBits: ratioToBits(actions[offset + 1]!, maxBits),
  }
}

// Compression policies against a network: checking one fits, the reference and uniform policies, and a canonical key.
import { POLICY_FORMAT, type CompressibleLayer, type LayerPolicy, type Policy } from '../../contract/compression.ts'
import type { Network } from '../network.ts'
import { classifierId, compressibleLayers, pruneBlocker } from './layers.ts'

function checkBits(bits: number, what: string, layer: string): void {
  if (bits !== 32 && !(Number.isInteger(bits) && bits >= 1 && bits <= 8))
    throw new Error(`Layer '${layer}' has ${what} ${bits}; use a whole number from 1 to 8, or 32 for float.`)
}

/** Throws an Error saying plainly what is wrong when the policy does not fit the network. */
export function checkPolicy(net: Pick<Network, 'spec' | 'point'>, policy: Policy): void {
  const { spec } = net
  if (policy.architecture !== spec.architecture)
    throw new Error(`The policy is for the architecture '${policy.architecture}', but the model is a '${spec.architecture}'.`)
  const layers = compressibleLayers(net)
  const known = new Map(layers.map((l) => [l.id, l]))
  const classifier = classifierId(spec)
  const seen = new Set<string>()
  let lastIndex = -1
  for (const entry of policy.layers) {
    if (entry.layer === classifier) throw new Error(`The policy lists '${classifier}', the classifier; it is never compressed, so leave it out of the policy.`)
    const layer = known.get(entry.layer)
    if (!layer)
      throw new Error(
        `The policy names the layer '${entry.layer}', which ${spec.architecture} does not have. Its compressible layers: ${layers.map((l) => l.id).join(', ')}.`,
      )
    if (seen.has(entry.layer)) throw new Error(`The policy lists the layer '${entry.layer}' twice.`)
    if (layer.index < lastIndex)
      throw new Error(
        `The policy lists '${entry.layer}' after '${layers[lastIndex]!.id}'; layers must come in graph order (${layers.map((l) => l.id).join(', ')}).`,
      )
    seen.add(entry.layer)
    lastIndex = layer.index
    if (!(entry.keep > 0 && entry.keep <= 1)) throw new Error(`Layer '${entry.layer}' has keep ${entry.keep}; it must be above 0 and at most 1.`)
    checkBits(entry.weightBits, 'weightBits', entry.layer)
    checkBits(entry.activationBits, 'activationBits', entry.layer)
    if (entry.keep < 1 && !layer.prunable)
      throw new Error(`Layer '${entry.layer}' has keep ${entry.keep}, but it cannot be pruned: ${pruneBlocker(spec, entry.layer)}. Use keep 1.`)
  }
  const missing = layers.filter((l) => !seen.has(l.id)).map((l) => l.id)
  if (missing.length) throw new Error(`The policy has no entry for ${missing.map((id) => `'${id}'`).join(', ')}; every compressible layer needs one.`)
}

function policyOf(layers: readonly CompressibleLayer[], architecture: string, entry: (layer: CompressibleLayer) => Omit<LayerPolicy, 'layer'>): Policy {
  return { format: POLICY_FORMAT, version: 1, architecture, layers: layers.map((l) => ({ layer: l.id, ...entry(l) })) }
}

/** The uncompressed network (`architecture`: net.spec.architecture) as a policy: keep 1, float weights and activations everywhere. */
export function referencePolicy(layers: readonly CompressibleLayer[], architecture: string): Policy {
  return policyOf(layers, architecture, () => ({ keep: 1, weightBits: 32, activationBits: 32 }))
}

/** The same setting for every layer; layers that cannot be pruned keep 1. */
export function uniformPolicy(
  layers: readonly CompressibleLayer[],
  setting: { keep: number; weightBits: number; activationBits: number },
  architecture: string,
): Policy {
  return policyOf(layers, architecture, (l) => ({ ...setting, keep: l.prunable ? setting.keep : 1 }))
}

/** A canonical string for a policy (part of cache keys): equal policies give equal keys. */
export function policyKey(policy: Policy): string {
  const layers = policy.layers.map((l) => `${l.layer}:${l.keep}:${l.weightBits}:${l.activationBits}`)
  return `${policy.architecture}@v${policy.version}|${layers.join(',')}`
}

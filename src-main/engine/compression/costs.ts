// Exact per-sample costs of a policy, from shapes alone (no tensors, no pruned network built): channels after
// pruning, MACs, BOPs (MACs × activation bits × weight bits) and parameters of each policy layer and the classifier.
import type { Policy } from '../../contract/compression.ts'
import type { Network } from '../network.ts'
import { channelSources, classifierId, isPolicyOp, keptCount, type PolicyNode } from './layers.ts'
import { checkPolicy } from './policy.ts'

export interface LayerCost {
  layer: string
  /** Input features (dense: after flatten) or input channels (conv), after pruning upstream. */
  inChannels: number
  outChannels: number
  macs: number
  bops: number
  /** Kernel weights plus bias. */
  params: number
}

/**
 * Totals cover the policy layers plus the classifier (at 32/32 bits, its input shrinking with the layer before it);
 * BN, depthwise convs, pooling and the like are not counted.
 */
export interface PolicyCosts {
  layers: LayerCost[]
  classifier: LayerCost
  macs: number
  bops: number
  params: number
}

export function policyCosts(net: Pick<Network, 'spec' | 'point'>, policy: Policy, channelMultiple = 1): PolicyCosts {
  checkPolicy(net, policy)
  const nodes = new Map(net.spec.nodes.filter(isPolicyOp).map((n) => [n.id, n]))
  const outOf = (node: PolicyNode): number => (node.op === 'dense' ? node.units : node.filters)
  const kept = new Map(policy.layers.map((l) => [l.layer, keptCount(outOf(nodes.get(l.layer)!), l.keep, channelMultiple)]))
  const sources = channelSources(net.spec)

  const cost = (node: PolicyNode, weightBits: number, activationBits: number): LayerCost => {
    const point = net.point(node.id)
    const inChannels = point.inputShapes[0]!.at(-1)!
    const out = outOf(node)
    const kernel = node.op === 'dense' ? 1 : node.kernel
    // Output positions (conv) or leading positions (dense on a rank > 1 input): MACs = positions·k²·in·out.
    const positions = point.macs / (kernel * kernel * inChannels * out)
    const source = sources.get(node.input)
    const sourceNode = source ? nodes.get(source) : undefined
    // Input features scale with the kept channels of the layer that produced them (flatten repeats channels per position).
    const inKept = sourceNode ? (inChannels / outOf(sourceNode)) * (kept.get(sourceNode.id) ?? outOf(sourceNode)) : inChannels
    const outKept = kept.get(node.id) ?? out
    const macs = positions * kernel * kernel * inKept * outKept
    const params = kernel * kernel * inKept * outKept + ((node.useBias ?? true) ? outKept : 0)
    return { layer: node.id, inChannels: inKept, outChannels: outKept, macs, bops: macs * activationBits * weightBits, params }
  }

  const layers = policy.layers.map((l) => cost(nodes.get(l.layer)!, l.weightBits, l.activationBits))
  const classifier = cost(nodes.get(classifierId(net.spec))!, 32, 32)
  const all = [...layers, classifier]
  const sum = (key: 'macs' | 'bops' | 'params') => all.reduce((total, l) => total + l[key], 0)
  return { layers, classifier, macs: sum('macs'), bops: sum('bops'), params: sum('params') }
}

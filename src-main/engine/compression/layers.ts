// A network's compressible layers (every dense and conv node but the classifier) and the graph rules pruning follows:
// which ops a layer's output channels pass through unchanged, and what stops them from being pruned.
import type { CompressibleLayer } from '../../contract/compression.ts'
import { nodeInputs, type ModelSpec, type NodeSpec } from '../graph.ts'
import type { Network } from '../network.ts'

export type PolicyNode = Extract<NodeSpec, { op: 'dense' | 'conv2d' }>

/** Ops that keep their input's channels one for one (flatten repeats them per spatial position). */
const PASS_THROUGH: ReadonlySet<NodeSpec['op']> = new Set(['batchNorm', 'relu', 'maxPool', 'avgPool', 'globalAvgPool', 'depthwiseConv2d', 'flatten'])

export function isPolicyOp(node: NodeSpec): node is PolicyNode {
  return node.op === 'dense' || node.op === 'conv2d'
}

export function isPassThrough(node: NodeSpec): boolean {
  return PASS_THROUGH.has(node.op)
}

/** The classifier: the last dense or conv node in graph order. */
export function classifierId(spec: ModelSpec): string {
  const last = spec.nodes.findLast(isPolicyOp)
  if (!last) throw new Error(`${spec.architecture} has no dense or conv layer, so it has no classifier.`)
  return last.id
}

/** round(channels·keep) to the nearest multiple, at least one multiple (and 1), at most every channel. */
export function keptCount(channels: number, keep: number, multiple: number): number {
  if (!Number.isInteger(multiple) || multiple < 1) throw new Error(`The channel multiple is ${multiple}; it must be a whole number ≥ 1.`)
  const rounded = Math.round(Math.round(channels * keep) / multiple) * multiple
  return Math.min(channels, Math.max(rounded, multiple, 1))
}

/** Each node's consumers, in graph order. */
export function consumersOf(spec: ModelSpec): Map<string, NodeSpec[]> {
  const consumers = new Map<string, NodeSpec[]>(spec.nodes.map((n) => [n.id, []]))
  for (const node of spec.nodes) for (const input of nodeInputs(node)) consumers.get(input)!.push(node)
  return consumers
}

/** Why a dense/conv layer's output channels cannot be pruned, or null when they can. */
export function pruneBlocker(spec: ModelSpec, id: string, consumers = consumersOf(spec)): string | null {
  const output = spec.nodes.at(-1)!.id
  const stack = [id]
  while (stack.length) {
    const at = stack.pop()!
    if (at === output) return `its output channels reach the network's output ('${at}')`
    for (const next of consumers.get(at) ?? []) {
      if (isPolicyOp(next)) continue
      if (next.op === 'add') return `its output channels reach the residual add '${next.id}', whose two branches must keep the same channels`
      if (!isPassThrough(next)) return `its output feeds '${next.id}' (${next.op}), which pruning cannot follow`
      stack.push(next.id)
    }
  }
  return null
}

/**
 * For every node, the dense/conv layer whose output channels its last axis carries (through pass-through ops), or
 * null when they come from the input or an add (never pruned).
 */
export function channelSources(spec: ModelSpec): Map<string, string | null> {
  const sources = new Map<string, string | null>()
  for (const node of spec.nodes) {
    if (isPolicyOp(node)) sources.set(node.id, node.id)
    else if (node.op === 'input' || node.op === 'add') sources.set(node.id, null)
    else sources.set(node.id, sources.get(node.input) ?? null)
  }
  return sources
}

/** Every dense and conv node except the classifier, in graph order, with its shape and per-sample cost. */
export function compressibleLayers(net: Pick<Network, 'spec' | 'point'>): CompressibleLayer[] {
  const classifier = classifierId(net.spec)
  const consumers = consumersOf(net.spec)
  return net.spec.nodes
    .filter((node): node is PolicyNode => isPolicyOp(node) && node.id !== classifier)
    .map((node, index) => {
      const point = net.point(node.id)
      const dense = node.op === 'dense'
      return {
        id: node.id,
        op: node.op,
        index,
        inChannels: point.inputShapes[0]?.at(-1) ?? 1,
        outChannels: dense ? node.units : node.filters,
        kernel: dense ? 1 : node.kernel,
        stride: dense ? 1 : (node.stride ?? 1),
        macs: point.macs,
        params: point.params,
        prunable: pruneBlocker(net.spec, node.id, consumers) === null,
      }
    })
}

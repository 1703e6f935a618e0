// A network as a list of named nodes. Every node's output is an injection point: noise, quantization, analog
// execution and pruning all address layers by these ids, which stay stable across save, load and export.

export type Padding = 'same' | 'valid'

export type NodeSpec =
  | { id: string; op: 'input'; shape: number[] }
  | { id: string; op: 'dense'; input: string; units: number; useBias?: boolean }
  | { id: string; op: 'conv2d'; input: string; filters: number; kernel: number; stride?: number; padding?: Padding; dilation?: number; useBias?: boolean }
  | { id: string; op: 'depthwiseConv2d'; input: string; kernel: number; stride?: number; padding?: Padding; useBias?: boolean }
  | { id: string; op: 'batchNorm'; input: string }
  | { id: string; op: 'relu'; input: string }
  | { id: string; op: 'maxPool' | 'avgPool'; input: string; size: number; stride?: number; padding?: Padding }
  | { id: string; op: 'globalAvgPool'; input: string }
  | { id: string; op: 'flatten'; input: string }
  | { id: string; op: 'add'; inputs: [string, string] }

export type Op = NodeSpec['op']

export interface ModelSpec {
  /** Architecture name, e.g. 'lenet5-bn'; a weights file must match it to load. */
  architecture: string
  classes: number
  nodes: NodeSpec[]
}

export function nodeInputs(node: NodeSpec): string[] {
  if (node.op === 'input') return []
  if (node.op === 'add') return node.inputs
  return [node.input]
}

const OP_LABELS: Record<Op, string> = {
  input: 'input',
  dense: 'dense',
  conv2d: 'conv',
  depthwiseConv2d: 'depthwise conv',
  batchNorm: 'BN',
  relu: 'ReLU',
  maxPool: 'max-pool',
  avgPool: 'avg-pool',
  globalAvgPool: 'global avg-pool',
  flatten: 'flatten',
  add: 'add',
}

/** A human label such as `conv2 · BN` from an id such as `conv2.bn`. */
export function pointLabel(node: NodeSpec): string {
  const [layer, part] = node.id.split('.', 2)
  return part === undefined ? layer! : `${layer} · ${OP_LABELS[node.op]}`
}

/** Ids are unique, inputs exist and come earlier, exactly one input node comes first. */
export function validateSpec(spec: ModelSpec): void {
  const seen = new Set<string>()
  spec.nodes.forEach((node, index) => {
    if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)?$/.test(node.id)) throw new Error(`Node id '${node.id}' must look like 'conv2' or 'conv2.bn'.`)
    if (seen.has(node.id)) throw new Error(`Node id '${node.id}' appears twice in ${spec.architecture}.`)
    if ((node.op === 'input') !== (index === 0)) throw new Error(`${spec.architecture}: the input node must come first, and only once.`)
    for (const input of nodeInputs(node)) {
      if (!seen.has(input)) throw new Error(`${spec.architecture}: node '${node.id}' reads '${input}', which is not defined before it.`)
    }
    seen.add(node.id)
  })
}

/** Nodes whose value depends on the given node (itself included), in graph order. */
export function downstreamOf(spec: ModelSpec, id: string): Set<string> {
  const affected = new Set([id])
  for (const node of spec.nodes) if (nodeInputs(node).some((input) => affected.has(input))) affected.add(node.id)
  return affected
}

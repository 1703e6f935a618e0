// The built-in architectures. Ids follow one scheme: a layer ('conv2', 'fc1') and its parts ('conv2.bn', 'conv2.relu').
import type { ModelSpec, NodeSpec } from './graph.ts'

type Layer = NodeSpec

function block(id: string, input: string, body: Layer, bn: boolean): { nodes: Layer[]; out: string } {
  const nodes: Layer[] = [body]
  if (bn) nodes.push({ id: `${id}.bn`, op: 'batchNorm', input: id })
  nodes.push({ id: `${id}.relu`, op: 'relu', input: bn ? `${id}.bn` : id })
  return { nodes, out: `${id}.relu` }
}

/** MLPs of the FINN family: TFC 3×64, SFC 3×256, LFC 3×1024 hidden units. */
export function mlp(size: 'tfc' | 'sfc' | 'lfc', bn: boolean, inputShape = [28, 28, 1], classes = 10): ModelSpec {
  const units = { tfc: 64, sfc: 256, lfc: 1024 }[size]
  const nodes: Layer[] = [
    { id: 'input', op: 'input', shape: inputShape },
    { id: 'flatten', op: 'flatten', input: 'input' },
  ]
  let prev = 'flatten'
  for (let i = 1; i <= 3; i++) {
    const b = block(`fc${i}`, prev, { id: `fc${i}`, op: 'dense', input: prev, units, useBias: !bn }, bn)
    nodes.push(...b.nodes)
    prev = b.out
  }
  nodes.push({ id: 'logits', op: 'dense', input: prev, units: classes })
  return { architecture: `mlp-${size}${bn ? '-bn' : ''}`, classes, nodes }
}

/** LeNet-5 for 28×28 inputs: the first conv pads ('same') so the classic 32×32 geometry follows. */
export function lenet5(bn: boolean, inputShape = [28, 28, 1], classes = 10): ModelSpec {
  const nodes: Layer[] = [{ id: 'input', op: 'input', shape: inputShape }]
  let b = block('conv1', 'input', { id: 'conv1', op: 'conv2d', input: 'input', filters: 6, kernel: 5, padding: 'same', useBias: !bn }, bn)
  nodes.push(...b.nodes, { id: 'pool1', op: 'maxPool', input: b.out, size: 2 })
  b = block('conv2', 'pool1', { id: 'conv2', op: 'conv2d', input: 'pool1', filters: 16, kernel: 5, padding: 'valid', useBias: !bn }, bn)
  nodes.push(...b.nodes, { id: 'pool2', op: 'maxPool', input: b.out, size: 2 }, { id: 'flatten', op: 'flatten', input: 'pool2' })
  let prev = 'flatten'
  for (const [id, units] of [
    ['fc1', 120],
    ['fc2', 84],
  ] as const) {
    b = block(id, prev, { id, op: 'dense', input: prev, units, useBias: !bn }, bn)
    nodes.push(...b.nodes)
    prev = b.out
  }
  nodes.push({ id: 'logits', op: 'dense', input: prev, units: classes })
  return { architecture: `lenet5${bn ? '-bn' : ''}`, classes, nodes }
}

/** DS-CNN (Hello Edge, small): a strided conv, four depthwise-separable blocks, global average pooling. */
export function dsCnn(inputShape: number[], classes: number, width = 64): ModelSpec {
  const nodes: Layer[] = [{ id: 'input', op: 'input', shape: inputShape }]
  let b = block('conv1', 'input', { id: 'conv1', op: 'conv2d', input: 'input', filters: width, kernel: 3, stride: 2, padding: 'same', useBias: false }, true)
  nodes.push(...b.nodes)
  let prev = b.out
  for (let i = 1; i <= 4; i++) {
    b = block(`dw${i}`, prev, { id: `dw${i}`, op: 'depthwiseConv2d', input: prev, kernel: 3, padding: 'same', useBias: false }, true)
    nodes.push(...b.nodes)
    b = block(`pw${i}`, b.out, { id: `pw${i}`, op: 'conv2d', input: b.out, filters: width, kernel: 1, useBias: false }, true)
    nodes.push(...b.nodes)
    prev = b.out
  }
  nodes.push({ id: 'gap', op: 'globalAvgPool', input: prev }, { id: 'logits', op: 'dense', input: 'gap', units: classes })
  return { architecture: `ds-cnn-${width}`, classes, nodes }
}

/** ResNet-8: a stem and three residual stages (16, 32, 64 filters), strided 1×1 shortcuts where the shape changes. */
export function resnet8(inputShape = [28, 28, 1], classes = 10): ModelSpec {
  const nodes: Layer[] = [{ id: 'input', op: 'input', shape: inputShape }]
  let b = block('stem', 'input', { id: 'stem', op: 'conv2d', input: 'input', filters: 16, kernel: 3, useBias: false }, true)
  nodes.push(...b.nodes)
  let prev = b.out
  ;[16, 32, 64].forEach((filters, s) => {
    const stage = `s${s + 1}`
    const stride = s === 0 ? 1 : 2
    b = block(`${stage}a`, prev, { id: `${stage}a`, op: 'conv2d', input: prev, filters, kernel: 3, stride, useBias: false }, true)
    nodes.push(...b.nodes)
    nodes.push({ id: `${stage}b`, op: 'conv2d', input: b.out, filters, kernel: 3, useBias: false }, { id: `${stage}b.bn`, op: 'batchNorm', input: `${stage}b` })
    let shortcut = prev
    if (stride !== 1) {
      nodes.push(
        { id: `${stage}sc`, op: 'conv2d', input: prev, filters, kernel: 1, stride, useBias: false },
        { id: `${stage}sc.bn`, op: 'batchNorm', input: `${stage}sc` },
      )
      shortcut = `${stage}sc.bn`
    }
    nodes.push({ id: `${stage}.add`, op: 'add', inputs: [`${stage}b.bn`, shortcut] }, { id: `${stage}.relu`, op: 'relu', input: `${stage}.add` })
    prev = `${stage}.relu`
  })
  nodes.push({ id: 'gap', op: 'globalAvgPool', input: prev }, { id: 'logits', op: 'dense', input: 'gap', units: classes })
  return { architecture: 'resnet8', classes, nodes }
}

export interface ArchitectureInfo {
  id: string
  summary: string
  build: (inputShape: number[], classes: number) => ModelSpec
}

export const architectures: ArchitectureInfo[] = [
  { id: 'mlp-tfc', summary: 'MLP 3×64', build: (s, c) => mlp('tfc', false, s, c) },
  { id: 'mlp-tfc-bn', summary: 'MLP 3×64 with batch norm', build: (s, c) => mlp('tfc', true, s, c) },
  { id: 'mlp-sfc', summary: 'MLP 3×256', build: (s, c) => mlp('sfc', false, s, c) },
  { id: 'mlp-sfc-bn', summary: 'MLP 3×256 with batch norm', build: (s, c) => mlp('sfc', true, s, c) },
  { id: 'mlp-lfc', summary: 'MLP 3×1024', build: (s, c) => mlp('lfc', false, s, c) },
  { id: 'mlp-lfc-bn', summary: 'MLP 3×1024 with batch norm', build: (s, c) => mlp('lfc', true, s, c) },
  { id: 'lenet5', summary: 'LeNet-5', build: (s, c) => lenet5(false, s, c) },
  { id: 'lenet5-bn', summary: 'LeNet-5 with batch norm', build: (s, c) => lenet5(true, s, c) },
  { id: 'ds-cnn', summary: 'DS-CNN (Hello Edge) for keyword spotting', build: (s, c) => dsCnn(s, c) },
  { id: 'resnet8', summary: 'ResNet-8', build: (s, c) => resnet8(s, c) },
]

export function architecture(id: string): ArchitectureInfo {
  const found = architectures.find((a) => a.id === id)
  if (!found) throw new Error(`Unknown architecture '${id}'. Known: ${architectures.map((a) => a.id).join(', ')}.`)
  return found
}

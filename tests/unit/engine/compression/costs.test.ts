import { beforeAll, describe, expect, it } from 'vitest'
import type { Policy } from '../../../../src-main/contract/compression.ts'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { policyCosts } from '../../../../src-main/engine/compression/costs.ts'
import { compressibleLayers } from '../../../../src-main/engine/compression/layers.ts'
import { referencePolicy } from '../../../../src-main/engine/compression/policy.ts'
import { pruneNetwork } from '../../../../src-main/engine/compression/prune.ts'
import type { ModelSpec } from '../../../../src-main/engine/graph.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { dsCnn, lenet5, resnet8 } from '../../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

type Setting = { keep: number; weightBits: number; activationBits: number }

function policy(architecture: string, layers: Record<string, Setting>): Policy {
  return { format: 'benchside-compression-policy', version: 1, architecture, layers: Object.entries(layers).map(([layer, s]) => ({ layer, ...s })) }
}

const denseSpec: ModelSpec = {
  architecture: 'tiny-dense',
  classes: 2,
  nodes: [
    { id: 'input', op: 'input', shape: [6] },
    { id: 'fc1', op: 'dense', input: 'input', units: 4 },
    { id: 'fc1.relu', op: 'relu', input: 'fc1' },
    { id: 'fc2', op: 'dense', input: 'fc1.relu', units: 3 },
    { id: 'fc2.relu', op: 'relu', input: 'fc2' },
    { id: 'logits', op: 'dense', input: 'fc2.relu', units: 2 },
  ],
}

const convSpec: ModelSpec = {
  architecture: 'tiny-conv',
  classes: 3,
  nodes: [
    { id: 'input', op: 'input', shape: [8, 8, 2] },
    { id: 'conv1', op: 'conv2d', input: 'input', filters: 4, kernel: 3, padding: 'same', useBias: false },
    { id: 'conv1.bn', op: 'batchNorm', input: 'conv1' },
    { id: 'conv1.relu', op: 'relu', input: 'conv1.bn' },
    { id: 'pool1', op: 'maxPool', input: 'conv1.relu', size: 2 },
    { id: 'conv2', op: 'conv2d', input: 'pool1', filters: 6, kernel: 3, padding: 'valid' },
    { id: 'conv2.relu', op: 'relu', input: 'conv2' },
    { id: 'flatten', op: 'flatten', input: 'conv2.relu' },
    { id: 'logits', op: 'dense', input: 'flatten', units: 3 },
  ],
}

describe('policy costs', () => {
  it('are exact for a tiny dense net', () => {
    const net = new Network(denseSpec)
    const costs = policyCosts(
      net,
      policy('tiny-dense', {
        fc1: { keep: 0.5, weightBits: 4, activationBits: 8 }, // 4 → 2 units
        fc2: { keep: 1 / 3, weightBits: 2, activationBits: 2 }, // 3 → 1 unit
      }),
    )
    // fc1: 6 in × 2 out = 12 MACs, 12·8·4 = 384 BOPs, 12 weights + 2 biases.
    // fc2: 2 in × 1 out = 2 MACs, 2·2·2 = 8 BOPs, 2 + 1 params.
    // logits (32/32): 1 in × 2 out = 2 MACs, 2·32·32 = 2048 BOPs, 2 + 2 params.
    expect(costs.layers).toEqual([
      { layer: 'fc1', inChannels: 6, outChannels: 2, macs: 12, bops: 384, params: 14 },
      { layer: 'fc2', inChannels: 2, outChannels: 1, macs: 2, bops: 8, params: 3 },
    ])
    expect(costs.classifier).toEqual({ layer: 'logits', inChannels: 1, outChannels: 2, macs: 2, bops: 2048, params: 4 })
    expect({ macs: costs.macs, bops: costs.bops, params: costs.params }).toEqual({ macs: 16, bops: 2440, params: 21 })
    net.dispose()
  })

  it('are exact for a tiny conv net, through BN, pooling and flatten', () => {
    const net = new Network(convSpec)
    const costs = policyCosts(
      net,
      policy('tiny-conv', {
        conv1: { keep: 0.5, weightBits: 8, activationBits: 8 }, // 4 → 2 filters
        conv2: { keep: 0.5, weightBits: 4, activationBits: 2 }, // 6 → 3 filters
      }),
    )
    // conv1: 8·8 outputs × 3·3 × 2 in × 2 out = 2304 MACs, ·8·8 = 147456 BOPs, 9·2·2 = 36 weights (no bias).
    // conv2: 2·2 outputs (valid on 4×4) × 3·3 × 2 in × 3 out = 216 MACs, ·2·4 = 1728 BOPs, 9·2·3 + 3 = 57 params.
    // logits: 2·2·3 = 12 features × 3 = 36 MACs, ·1024 = 36864 BOPs, 36 + 3 = 39 params.
    expect(costs.layers).toEqual([
      { layer: 'conv1', inChannels: 2, outChannels: 2, macs: 2304, bops: 147456, params: 36 },
      { layer: 'conv2', inChannels: 2, outChannels: 3, macs: 216, bops: 1728, params: 57 },
    ])
    expect(costs.classifier).toEqual({ layer: 'logits', inChannels: 12, outChannels: 3, macs: 36, bops: 36864, params: 39 })
    expect({ macs: costs.macs, bops: costs.bops, params: costs.params }).toEqual({ macs: 2556, bops: 186048, params: 132 })

    // The reference: 4608 + 864 + 72 MACs, all at 32·32 BOPs per MAC; 72 + 222 + 75 params.
    const reference = policyCosts(net, referencePolicy(compressibleLayers(net), 'tiny-conv'))
    expect({ macs: reference.macs, bops: reference.bops, params: reference.params }).toEqual({ macs: 5544, bops: 5544 * 1024, params: 369 })
    // A channel multiple of 4 rounds conv1's 2 kept filters to 4 (2/4 rounds to one multiple).
    const rounded = policyCosts(
      net,
      policy('tiny-conv', { conv1: { keep: 0.5, weightBits: 32, activationBits: 32 }, conv2: { keep: 1, weightBits: 32, activationBits: 32 } }),
      4,
    )
    expect(rounded.layers[0]!.outChannels).toBe(4)
    net.dispose()
  })

  const agreeing: { name: string; spec: ModelSpec; keeps: Record<string, number> }[] = [
    { name: 'LeNet-5-BN', spec: lenet5(true), keeps: { conv1: 0.5, conv2: 0.3, fc1: 0.45, fc2: 0.8 } },
    { name: 'DS-CNN', spec: dsCnn([16, 16, 1], 4, 8), keeps: { conv1: 0.5, pw1: 0.75, pw3: 0.4, pw4: 0.3 } },
    { name: 'ResNet-8', spec: resnet8([16, 16, 1], 5), keeps: { s1a: 0.5, s2a: 0.3, s3a: 0.7 } },
  ]
  for (const { name, spec, keeps } of agreeing) {
    it(`agree with the pruned network's shapes and parameters (${name})`, () => {
      const net = new Network(spec)
      const base = referencePolicy(compressibleLayers(net), spec.architecture)
      const chosen: Policy = { ...base, layers: base.layers.map((l) => ({ ...l, keep: keeps[l.layer] ?? 1, weightBits: 4, activationBits: 4 })) }
      for (const multiple of [1, 4]) {
        const costs = policyCosts(net, chosen, multiple)
        const { net: pruned } = pruneNetwork(net, chosen, { channelMultiple: multiple })
        for (const cost of [...costs.layers, costs.classifier]) {
          const point = pruned.point(cost.layer)
          expect(cost.inChannels).toBe(point.inputShapes[0]!.at(-1))
          expect(cost.outChannels).toBe(point.outputShape.at(-1))
          expect(cost.macs).toBe(point.macs)
          expect(cost.params).toBe(point.params)
        }
        expect(costs.classifier.bops).toBe(pruned.point('logits').macs * 1024)
        expect(costs.layers.map((l) => l.bops)).toEqual(costs.layers.map((l) => pruned.point(l.layer).macs * 16))
        const weightLayers = pruned.points.filter((p) => p.op === 'dense' || p.op === 'conv2d')
        expect(costs.params).toBe(weightLayers.reduce((sum, p) => sum + p.params, 0))
        expect(costs.macs).toBe(weightLayers.reduce((sum, p) => sum + p.macs, 0))
        pruned.dispose()
      }
      net.dispose()
    })
  }
})

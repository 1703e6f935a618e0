import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { classifierId, compressibleLayers, keptCount, pruneBlocker } from '../../../../src-main/engine/compression/layers.ts'
import type { ModelSpec } from '../../../../src-main/engine/graph.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { dsCnn, lenet5, mlp, resnet8 } from '../../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

function layersOf(spec: ModelSpec) {
  const net = new Network(spec)
  try {
    return compressibleLayers(net)
  } finally {
    net.dispose()
  }
}

describe('compressible layers', () => {
  it('are every dense and conv layer of LeNet-5-BN but the classifier, with shapes and costs', () => {
    const layers = layersOf(lenet5(true))
    expect(classifierId(lenet5(true))).toBe('logits')
    expect(layers.map((l) => [l.id, l.op, l.index])).toEqual([
      ['conv1', 'conv2d', 0],
      ['conv2', 'conv2d', 1],
      ['fc1', 'dense', 2],
      ['fc2', 'dense', 3],
    ])
    expect(layers[1]).toEqual({
      id: 'conv2',
      op: 'conv2d',
      index: 1,
      inChannels: 6,
      outChannels: 16,
      kernel: 5,
      stride: 1,
      macs: 10 * 10 * 25 * 6 * 16,
      params: 25 * 6 * 16,
      prunable: true,
    })
    expect(layers[2]).toMatchObject({ inChannels: 400, outChannels: 120, kernel: 1, stride: 1, macs: 400 * 120, params: 400 * 120 })
    expect(layers.every((l) => l.prunable)).toBe(true)
  })

  it('leave out depthwise convs (DS-CNN) and keep the strided first conv', () => {
    const layers = layersOf(dsCnn([16, 16, 1], 4, 8))
    expect(layers.map((l) => l.id)).toEqual(['conv1', 'pw1', 'pw2', 'pw3', 'pw4'])
    expect(layers[0]).toMatchObject({ stride: 2, kernel: 3, inChannels: 1, outChannels: 8 })
    expect(layers.every((l) => l.prunable)).toBe(true)
  })

  it('mark the layers whose outputs reach a residual add as not prunable (ResNet-8)', () => {
    const spec = resnet8()
    const layers = layersOf(spec)
    expect(layers.map((l) => l.id)).toEqual(['stem', 's1a', 's1b', 's2a', 's2b', 's2sc', 's3a', 's3b', 's3sc'])
    expect(layers.filter((l) => l.prunable).map((l) => l.id)).toEqual(['s1a', 's2a', 's3a'])
    expect(pruneBlocker(spec, 's1b')).toMatch(/residual add 's1.add'/)
    // The stem feeds s1a and, through its ReLU, the identity shortcut of stage 1.
    expect(pruneBlocker(spec, 'stem')).toMatch(/residual add 's1.add'/)
    expect(pruneBlocker(spec, 's1a')).toBeNull()
  })

  it('are the hidden layers of an MLP', () => {
    expect(layersOf(mlp('tfc', false, [8, 8, 1])).map((l) => [l.id, l.inChannels, l.outChannels, l.prunable])).toEqual([
      ['fc1', 64, 64, true],
      ['fc2', 64, 64, true],
      ['fc3', 64, 64, true],
    ])
  })

  it('refuse pruning a layer whose channels reach the network output', () => {
    const spec: ModelSpec = {
      architecture: 'tail',
      classes: 2,
      nodes: [
        { id: 'input', op: 'input', shape: [3] },
        { id: 'fc1', op: 'dense', input: 'input', units: 4 },
        { id: 'logits', op: 'dense', input: 'fc1', units: 2 },
        { id: 'logits.relu', op: 'relu', input: 'logits' },
      ],
    }
    expect(pruneBlocker(spec, 'logits')).toMatch(/network's output/)
    expect(pruneBlocker(spec, 'fc1')).toBeNull()
  })
})

describe('keptCount', () => {
  it('rounds channels·keep, then to the nearest multiple, within [max(multiple, 1), channels]', () => {
    expect(keptCount(16, 0.5, 1)).toBe(8)
    expect(keptCount(16, 0.3, 1)).toBe(5) // 4.8 → 5
    expect(keptCount(16, 0.3, 4)).toBe(4) // 5 → 4
    expect(keptCount(16, 0.4, 4)).toBe(8) // 6.4 → 6 → 8
    expect(keptCount(16, 0.05, 4)).toBe(4) // 0.8 → 1 → 0 → at least one multiple
    expect(keptCount(10, 0.01, 1)).toBe(1)
    expect(keptCount(6, 0.5, 8)).toBe(6) // never more than every channel
    expect(keptCount(6, 1, 1)).toBe(6)
    expect(() => keptCount(6, 0.5, 0)).toThrow(/whole number/)
  })
})

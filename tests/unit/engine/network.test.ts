import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/engine/backend.ts'
import { Network, type Hooks } from '../../../src-main/engine/network.ts'
import { architectures, dsCnn, lenet5, resnet8 } from '../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

function input(shape: number[], batch = 2, seed = 5): tf.Tensor {
  return tf.randomNormal([batch, ...shape], 0, 1, 'float32', seed)
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!)
}

describe('the zoo', () => {
  it('builds every architecture, each ending in one logit per class', () => {
    for (const arch of architectures) {
      const shape = arch.id === 'ds-cnn' ? [49, 10, 1] : [28, 28, 1]
      const net = new Network(arch.build(shape, 12))
      try {
        expect(net.points[0]!.id).toBe('input')
        expect(net.points.at(-1)!.outputShape).toEqual([12])
        expect(new Set(net.points.map((p) => p.id)).size).toBe(net.points.length)
        const logits = tf.tidy(() => net.forward(input(shape, 2)))
        expect(logits.shape).toEqual([2, 12])
        expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true)
        logits.dispose()
      } finally {
        net.dispose()
      }
    }
  })

  it('builds the MLPs for samples that are vectors already (an NPZ of [N, 16] features)', () => {
    for (const arch of architectures.filter((a) => a.id.startsWith('mlp-'))) {
      const net = new Network(arch.build([16], 3))
      try {
        expect(net.points.find((p) => p.id === 'flatten')?.outputShape).toEqual([16])
        const logits = tf.tidy(() => net.forward(input([16], 2)))
        expect(logits.shape).toEqual([2, 3])
        logits.dispose()
      } finally {
        net.dispose()
      }
    }
  })
})

describe('injection points', () => {
  it('have stable ids and human labels', () => {
    const a = new Network(lenet5(true))
    const b = new Network(lenet5(true), 99)
    expect(a.points.map((p) => p.id)).toEqual([
      'input',
      'conv1',
      'conv1.bn',
      'conv1.relu',
      'pool1',
      'conv2',
      'conv2.bn',
      'conv2.relu',
      'pool2',
      'flatten',
      'fc1',
      'fc1.bn',
      'fc1.relu',
      'fc2',
      'fc2.bn',
      'fc2.relu',
      'logits',
    ])
    expect(b.points.map((p) => p.id)).toEqual(a.points.map((p) => p.id))
    expect(a.point('conv2.bn').label).toBe('conv2 · BN')
    expect(a.point('conv2.relu').label).toBe('conv2 · ReLU')
    expect(a.point('conv2').label).toBe('conv2')
    expect(a.point('pool1').outputShape).toEqual([14, 14, 6])
    expect(() => a.point('conv9')).toThrow(/lenet5-bn has no injection point 'conv9'/)
    const r = new Network(resnet8())
    expect(r.point('s2.add').label).toBe('s2 · add')
    expect(r.point('s2.add').inputShapes).toEqual([
      [14, 14, 32],
      [14, 14, 32],
    ])
    for (const net of [a, b, r]) net.dispose()
  })

  it('count multiply-accumulates and parameters of known layers', () => {
    const le = new Network(lenet5(false))
    expect(le.point('conv1').macs).toBe(28 * 28 * 6 * 5 * 5)
    expect(le.point('conv1').params).toBe(6 * 25 + 6)
    expect(le.point('conv2').macs).toBe(10 * 10 * 16 * 5 * 5 * 6)
    expect(le.point('fc1').macs).toBe(400 * 120)
    expect(le.point('conv1.relu').macs).toBe(0)
    const ds = new Network(dsCnn([49, 10, 1], 12))
    expect(ds.point('conv1').outputShape).toEqual([25, 5, 64])
    expect(ds.point('conv1').macs).toBe(25 * 5 * 64 * 9)
    expect(ds.point('dw1').macs).toBe(25 * 5 * 64 * 9)
    expect(ds.point('pw1').macs).toBe(25 * 5 * 64 * 64)
    expect(ds.point('logits').macs).toBe(64 * 12)
    le.dispose()
    ds.dispose()
  })
})

describe('forward', () => {
  it('gives identical logits with empty hooks and with no hooks', () => {
    const net = new Network(resnet8())
    const x = input([28, 28, 1])
    const plain = tf.tidy(() => net.forward(x))
    for (const hooks of [{}, { after: new Map(), compute: new Map() }] as Hooks[]) {
      const hooked = tf.tidy(() => net.forward(x, { hooks }))
      expect(hooked.dataSync()).toEqual(plain.dataSync())
      hooked.dispose()
    }
    tf.dispose([x, plain])
    net.dispose()
  })

  const cases: { name: string; net: () => Network; shape: number[]; points: string[] }[] = [
    { name: 'LeNet-5 with BN', net: () => new Network(lenet5(true)), shape: [28, 28, 1], points: ['conv1', 'conv2.bn', 'fc1.relu', 'logits'] },
    // stem.relu and s1.relu each feed both a residual branch and its shortcut.
    { name: 'ResNet-8', net: () => new Network(resnet8()), shape: [28, 28, 1], points: ['stem.relu', 's1b.bn', 's1.relu', 's2sc.bn', 's3.add'] },
    { name: 'DS-CNN', net: () => new Network(dsCnn([49, 10, 1], 12)), shape: [49, 10, 1], points: ['dw2.relu', 'gap'] },
  ]
  for (const { name, net: make, shape, points } of cases) {
    it(`forwardFrom(cache, point, value) equals a full forward whose hook replaces that point (${name})`, () => {
      const net = make()
      const x = input(shape)
      const cache = net.activations(x)
      const clean = cache.get(net.outputId)!
      points.forEach((id, i) => {
        const value = tf.tidy(() => cache.get(id)!.add(tf.randomNormal(cache.get(id)!.shape, 0, 0.5, 'float32', i + 1)))
        const fromCache = tf.tidy(() => net.forwardFrom(cache, id, value))
        const full = tf.tidy(() => net.forward(x, { hooks: { after: new Map([[id, () => value.clone()]]) } }))
        expect(maxDifference(fromCache, full)).toBeLessThan(1e-4)
        // The replacement must matter, or the comparison above proves nothing.
        expect(maxDifference(fromCache, clean)).toBeGreaterThan(1e-3)
        tf.dispose([value, fromCache, full])
      })
      tf.dispose([x, ...cache.values()])
      net.dispose()
    })
  }
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Policy } from '../../../../src-main/contract/compression.ts'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { compressibleLayers } from '../../../../src-main/engine/compression/layers.ts'
import { checkPolicy, policyKey, referencePolicy, uniformPolicy } from '../../../../src-main/engine/compression/policy.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { lenet5, resnet8 } from '../../../../src-main/engine/zoo.ts'

let lenet: Network
let resnet: Network
let reference: Policy

beforeAll(async () => {
  await initBackend('cpu')
  lenet = new Network(lenet5(true))
  resnet = new Network(resnet8())
  reference = referencePolicy(compressibleLayers(lenet), 'lenet5-bn')
})

afterAll(() => {
  lenet.dispose()
  resnet.dispose()
})

describe('policies', () => {
  const withLayers = (layers: Policy['layers']): Policy => ({ ...reference, layers })

  it('reference and uniform policies fit their network', () => {
    expect(reference.layers).toEqual(['conv1', 'conv2', 'fc1', 'fc2'].map((layer) => ({ layer, keep: 1, weightBits: 32, activationBits: 32 })))
    expect(reference.architecture).toBe('lenet5-bn')
    expect(() => checkPolicy(lenet, reference)).not.toThrow()
    const layers = compressibleLayers(resnet)
    const uniform = uniformPolicy(layers, { keep: 0.5, weightBits: 4, activationBits: 8 }, 'resnet8')
    expect(() => checkPolicy(resnet, uniform)).not.toThrow()
    expect(uniform.layers.filter((l) => l.keep === 0.5).map((l) => l.layer)).toEqual(['s1a', 's2a', 's3a'])
    expect(uniform.layers.every((l) => l.weightBits === 4 && l.activationBits === 8)).toBe(true)
  })

  it('say plainly what does not fit', () => {
    const entry = (layer: string, keep = 1) => ({ layer, keep, weightBits: 32, activationBits: 32 })
    expect(() => checkPolicy(lenet, { ...reference, architecture: 'resnet8' })).toThrow(/architecture 'resnet8', but the model is a 'lenet5-bn'/)
    expect(() => checkPolicy(lenet, withLayers([...reference.layers, entry('conv9')]))).toThrow(/'conv9'.*compressible layers: conv1, conv2, fc1, fc2/)
    expect(() => checkPolicy(lenet, withLayers(reference.layers.slice(0, 3)))).toThrow(/no entry for 'fc2'/)
    expect(() => checkPolicy(lenet, withLayers([entry('conv2'), entry('conv1'), entry('fc1'), entry('fc2')]))).toThrow(/graph order/)
    expect(() => checkPolicy(lenet, withLayers([entry('conv1'), entry('conv1'), entry('conv2'), entry('fc1'), entry('fc2')]))).toThrow(/'conv1' twice/)
    expect(() => checkPolicy(lenet, withLayers([...reference.layers, entry('logits')]))).toThrow(/'logits', the classifier/)
    expect(() => checkPolicy(lenet, withLayers([entry('conv1', 0), entry('conv2'), entry('fc1'), entry('fc2')]))).toThrow(/keep 0/)
    expect(() => checkPolicy(lenet, withLayers([{ ...entry('conv1'), weightBits: 9 }, entry('conv2'), entry('fc1'), entry('fc2')]))).toThrow(/weightBits 9/)
    const resnetPolicy = referencePolicy(compressibleLayers(resnet), 'resnet8')
    const pruned = { ...resnetPolicy, layers: resnetPolicy.layers.map((l) => (l.layer === 's2b' ? { ...l, keep: 0.5 } : l)) }
    expect(() => checkPolicy(resnet, pruned)).toThrow(/'s2b' has keep 0.5, but it cannot be pruned: .*residual add 's2.add'.*Use keep 1/)
  })

  it('have canonical keys', () => {
    const layers = compressibleLayers(lenet)
    const a = uniformPolicy(layers, { keep: 0.5, weightBits: 4, activationBits: 8 }, 'lenet5-bn')
    const b = uniformPolicy(layers, { keep: 0.5, weightBits: 4, activationBits: 8 }, 'lenet5-bn')
    const c = uniformPolicy(layers, { keep: 0.5, weightBits: 4, activationBits: 4 }, 'lenet5-bn')
    expect(policyKey(a)).toBe(policyKey(b))
    expect(policyKey(a)).not.toBe(policyKey(c))
    expect(policyKey(a)).not.toBe(policyKey(reference))
    expect(policyKey(reference)).toBe('lenet5-bn@v1|conv1:1:32:32,conv2:1:32:32,fc1:1:32:32,fc2:1:32:32')
  })
})

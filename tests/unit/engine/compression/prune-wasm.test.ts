// Pruning on the backend this machine computes with (wasm): a pruned layer's sliced bias must work in the fused matmul.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { compressibleLayers } from '../../../../src-main/engine/compression/layers.ts'
import { uniformPolicy } from '../../../../src-main/engine/compression/policy.ts'
import { channelMaskHooks, pruneNetwork } from '../../../../src-main/engine/compression/prune.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { mlp } from '../../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm')
})

describe('pruning on wasm', () => {
  it('prunes an MLP whose dense layers have biases and computes what the masked original computes', () => {
    const net = new Network(mlp('tfc', false), 5)
    const policy = uniformPolicy(compressibleLayers(net), { keep: 0.5, weightBits: 32, activationBits: 32 }, net.spec.architecture)
    const pruned = pruneNetwork(net, policy)
    try {
      const x = tf.randomNormal([8, 28, 28, 1], 0, 1, 'float32', 9)
      const [small, masked] = tf.tidy(() => [pruned.net.forward(x), net.forward(x, { hooks: channelMaskHooks(net, pruned.kept) })])
      expect(small!.shape).toEqual([8, 10])
      const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(small!, masked!))).dataSync()[0]!)
      expect(difference).toBeLessThan(1e-4)
      tf.dispose([x, small!, masked!])
    } finally {
      pruned.net.dispose()
      net.dispose()
    }
  })
})

import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import type { Dataset, Split } from '../../../../src-main/engine/data/dataset.ts'
import { Network, type Hooks } from '../../../../src-main/engine/network.ts'
import { seededRandom } from '../../../../src-main/engine/random.ts'
import { fitHeads, predictMembers, trainEnsemble, type EnsembleEpochReport, type FitOptions } from '../../../../src-main/engine/uncertainty/ensemble-train.ts'
import { bodyOf, initialHeads, type Heads } from '../../../../src-main/engine/uncertainty/heads.ts'
import { augmentSampler } from '../../../../src-main/engine/uncertainty/repulsion-samples.ts'
import { mlp } from '../../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

const SHAPE = [8, 8, 1]
const CLASSES = 3

/** Images whose class is the brightest of three horizontal bands, so a head has something to learn. */
function split(count: number, seed: number): Split {
  const random = seededRandom(seed)
  const x = new Uint8Array(count * 64)
  const y = new Int32Array(count)
  for (let n = 0; n < count; n++) {
    const label = n % CLASSES
    y[n] = label
    for (let p = 0; p < 64; p++) {
      const band = Math.min(Math.floor(Math.floor(p / 8) / 3), 2)
      x[n * 64 + p] = Math.floor(random() * 120 + (band === label ? 100 : 0))
    }
  }
  return { x, y, count }
}

const DATASET: Dataset = {
  id: 'bands',
  name: 'Bands',
  sampleShape: SHAPE,
  classNames: ['top', 'middle', 'bottom'],
  normalization: { scale: 1 / 255, mean: 0.3, std: 0.2 },
  train: split(96, 1),
  validation: null,
  test: split(40, 2),
}

const FIT: FitOptions = { repulsion: 'function', form: 'wgd', repulsionWeight: 1, epochs: 2, batchSize: 32, learningRate: 0.01, weightDecay: 1e-3, seed: 5 }

function network(): Network {
  return new Network(mlp('tfc', false, SHAPE, CLASSES), 2)
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!)
}

/** Mean over head pairs and samples of the L2 distance between the heads' probability vectors. */
function meanPairwiseDistance(members: Float32Array[]): number {
  let sum = 0
  let pairs = 0
  for (let i = 0; i < members.length; i++)
    for (let j = i + 1; j < members.length; j++) {
      const [a, b] = [members[i]!, members[j]!]
      for (let n = 0; n < a.length / CLASSES; n++) {
        let d2 = 0
        for (let c = 0; c < CLASSES; c++) d2 += (a[n * CLASSES + c]! - b[n * CLASSES + c]!) ** 2
        sum += Math.sqrt(d2)
        pairs++
      }
    }
  return sum / pairs
}

describe('trainEnsemble', () => {
  it('refuses fewer than 2 heads', async () => {
    const net = network()
    await expect(trainEnsemble(net, DATASET, { heads: 1 })).rejects.toThrow(/at least 2 heads; 1 were asked for/)
    net.dispose()
  })

  it('without repulsion equals training each head alone on the same batches', async () => {
    const net = network()
    for (const depth of [1, 2] as const) {
      const joint = await trainEnsemble(net, DATASET, { ...FIT, heads: 3, headDepth: depth, repulsionWeight: 0 })
      const none = await trainEnsemble(net, DATASET, { ...FIT, heads: 3, headDepth: depth, repulsion: 'none' })
      const start = initialHeads(net, bodyOf(net, depth), { heads: 3, seed: FIT.seed })
      for (let m = 0; m < 3; m++) {
        const single = start.select([m])
        await fitHeads(net, single, DATASET, { ...FIT, repulsion: 'none' })
        single.variables.forEach((v, i) => {
          expect(maxDifference(joint.variables[i]!.slice(m, 1), v)).toBeLessThan(1e-6)
          expect(maxDifference(none.variables[i]!.slice(m, 1), v)).toBeLessThan(1e-6)
        })
        // Training moved the head.
        expect(maxDifference(start.variables[0]!.slice(m, 1), single.variables[0]!)).toBeGreaterThan(1e-3)
        single.dispose()
      }
      ;[joint, none, start].forEach((h) => h.dispose())
    }
    net.dispose()
  })

  it('makes the heads’ predictions on held-out samples more diverse with repulsion', async () => {
    const net = network()
    const diversity = async (options: Partial<FitOptions>) => {
      const heads = await trainEnsemble(net, DATASET, { ...FIT, epochs: 3, heads: 4, init: 'pretrained', perturbation: 0.1, ...options })
      const members = await predictMembers(net, heads, DATASET, DATASET.test)
      heads.dispose()
      return meanPairwiseDistance(members)
    }
    const plain = await diversity({ repulsion: 'none' })
    for (const form of ['wgd', 'svgd'] as const) expect(await diversity({ repulsion: 'function', form, repulsionWeight: 1 })).toBeGreaterThan(1.5 * plain)
    expect(await diversity({ repulsion: 'weight', repulsionWeight: 1 })).toBeGreaterThan(plain)
    net.dispose()
  })

  it('reports per batch and epoch, and learns', async () => {
    const net = network()
    const fractions: number[] = []
    const reports: EnsembleEpochReport[] = []
    const heads = await trainEnsemble(
      net,
      DATASET,
      { ...FIT, heads: 2, epochs: 4 },
      { onBatch: (f) => fractions.push(f), onEpoch: (r) => void reports.push(r) },
    )
    expect(fractions).toHaveLength(4 * 3)
    expect(fractions.at(-1)).toBe(1)
    expect(reports.map((r) => r.epoch)).toEqual([0, 1, 2, 3])
    expect(reports.at(-1)!.trainLoss).toBeLessThan(reports[0]!.trainLoss)
    expect(reports.at(-1)!.trainAccuracy).toBeGreaterThan(0.6)
    heads.dispose()
    net.dispose()
  })

  it('leaves no tensors behind, after training or an abort', async () => {
    const net = network()
    const sampler = augmentSampler(DATASET, 3)
    const before = tf.memory().numTensors
    for (const repulsion of ['function', 'weight'] as const) {
      const heads = await trainEnsemble(net, DATASET, { ...FIT, heads: 3, headDepth: 2, repulsion, samples: sampler })
      await predictMembers(net, heads, DATASET, DATASET.test, { batchSize: 16 })
      heads.dispose()
    }
    expect(tf.memory().numTensors).toBe(before)
    const controller = new AbortController()
    const run = trainEnsemble(net, DATASET, { ...FIT, heads: 3 }, { signal: controller.signal, onBatch: () => controller.abort(new Error('stopped')) })
    await expect(run).rejects.toThrow('stopped')
    expect(tf.memory().numTensors).toBe(before)
    net.dispose()
  })
})

describe('predictMembers', () => {
  it('gives every head’s softmax probabilities, the same whatever the batch size', async () => {
    const net = network()
    const heads: Heads = initialHeads(net, bodyOf(net), { heads: 3, seed: 1 })
    const members = await predictMembers(net, heads, DATASET, DATASET.test, { batchSize: 7 })
    expect(members).toHaveLength(3)
    members.forEach((member) => {
      expect(member).toHaveLength(40 * CLASSES)
      for (let n = 0; n < 40; n++) expect(member[n * 3]! + member[n * 3 + 1]! + member[n * 3 + 2]!).toBeCloseTo(1, 5)
    })
    const whole = await predictMembers(net, heads, DATASET, DATASET.test, { batchSize: 100 })
    whole.forEach((member, m) => member.forEach((p, i) => expect(p).toBeCloseTo(members[m]![i]!, 6)))
    expect(new Set(members.map((member) => member[0]!.toFixed(6))).size).toBe(3)
    const limited = await predictMembers(net, heads, DATASET, DATASET.test, { limit: 5 })
    expect(limited[2]).toEqual(members[2]!.subarray(0, 15))
    heads.dispose()
    net.dispose()
  })

  it('passes hooks to the body', async () => {
    const net = network()
    const heads = initialHeads(net, bodyOf(net), { heads: 2, seed: 1 })
    const zero: Hooks = { after: new Map([['fc2.relu', (value: tf.Tensor) => value.mul(0)]]) }
    const [clean, hooked] = await Promise.all([
      predictMembers(net, heads, DATASET, DATASET.test, { limit: 4 }),
      predictMembers(net, heads, DATASET, DATASET.test, { limit: 4, hooks: zero }),
    ])
    expect(hooked[0]).not.toEqual(clean[0])
    // fc3 has zero input and zero bias, so the features are 0 and fresh heads (zero biases) give uniform probabilities.
    hooked[0]!.forEach((p) => expect(p).toBeCloseTo(1 / 3, 6))
    heads.dispose()
    net.dispose()
  })
})

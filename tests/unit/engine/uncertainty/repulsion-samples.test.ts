import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import type { Dataset } from '../../../../src-main/engine/data/dataset.ts'
import { seededRandom, shuffled } from '../../../../src-main/engine/random.ts'
import {
  augmentSampler,
  mixSamples,
  oodSampler,
  rotateQuarter,
  shufflePatches,
  trainSampler,
} from '../../../../src-main/engine/uncertainty/repulsion-samples.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

const NORMALIZATION = { scale: 1 / 255, mean: 0.5, std: 0.25 }

/** `count` seeded uint8 images of the given shape, labels cycling through `classes`. */
function images(count: number, shape = [8, 8, 1], seed = 1, classes = 3): Dataset {
  const size = shape.reduce((a, b) => a * b, 1)
  const random = seededRandom(seed)
  const split = {
    x: Uint8Array.from({ length: count * size }, () => Math.floor(random() * 256)),
    y: Int32Array.from({ length: count }, (_, i) => i % classes),
    count,
  }
  return {
    id: `images-${shape.join('x')}`,
    name: `Images ${shape.join('×')}`,
    sampleShape: shape,
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
    normalization: NORMALIZATION,
    train: split,
    validation: null,
    test: split,
  }
}

function normalisedSample(dataset: Dataset, index: number): Float32Array {
  const size = dataset.sampleShape.reduce((a, b) => a * b, 1)
  const { scale, mean, std } = dataset.normalization
  return Float32Array.from(dataset.train.x.subarray(index * size, (index + 1) * size), (v) => (v * scale - mean) / std)
}

function take(sampler: (batch: number, step: number) => tf.Tensor, batch: number, step: number): { shape: number[]; data: Float32Array } {
  const t = sampler(batch, step)
  const out = { shape: t.shape, data: t.dataSync() as Float32Array }
  t.dispose()
  return out
}

const sorted = (values: Float32Array) => Array.from(values).sort((a, b) => a - b)

describe('samplers', () => {
  const dataset = images(20)
  const samplers = {
    train: trainSampler(dataset, 4),
    ...Object.fromEntries((['crop', 'patch-shuffle', 'rotate', 'mix', 'random'] as const).map((kind) => [kind, augmentSampler(dataset, 4, kind)])),
    ood: oodSampler(images(15, [8, 8, 1], 9), 4, dataset),
  }

  for (const [name, sampler] of Object.entries(samplers)) {
    it(`${name}: gives [batch, ...shape], the same for the same (seed, step), other samples for another step`, () => {
      const before = tf.memory().numTensors
      const a = take(sampler, 6, 3)
      expect(a.shape).toEqual([6, 8, 8, 1])
      expect(Array.from(a.data).every(Number.isFinite)).toBe(true)
      expect(take(sampler, 6, 3).data).toEqual(a.data)
      expect(take(sampler, 6, 4).data).not.toEqual(a.data)
      expect(tf.memory().numTensors).toBe(before)
    })
  }

  it('differ between seeds', () => {
    expect(take(augmentSampler(dataset, 5), 6, 3).data).not.toEqual(take(augmentSampler(dataset, 4), 6, 3).data)
    expect(take(trainSampler(dataset, 5), 6, 3).data).not.toEqual(take(trainSampler(dataset, 4), 6, 3).data)
  })

  it('draw normalised training samples', () => {
    const one = images(1)
    const { data } = take(trainSampler(one, 1), 2, 0)
    const expected = normalisedSample(one, 0)
    expect(Array.from(data.subarray(0, 64))).toEqual(Array.from(expected))
    expect(Array.from(data.subarray(64))).toEqual(Array.from(expected))
  })

  it('refuse a batch that is not a whole number ≥ 1', () => {
    expect(() => samplers.train(0, 1)).toThrow(/whole number of at least 1/)
  })
})

describe('augmentations', () => {
  it('patch shuffle moves whole patches: output patch p is input patch order[p]', () => {
    const shape = [8, 12, 2]
    const image = Float32Array.from({ length: 8 * 12 * 2 }, (_, i) => i)
    const order = shuffled([...Array(16).keys()], seededRandom(3))
    const out = shufflePatches(image, shape, order)
    const patch = (values: Float32Array, p: number) => {
      const [py, px] = [Math.floor(p / 4) * 2, (p % 4) * 3]
      return [0, 1].flatMap((y) => Array.from(values.subarray(((py + y) * 12 + px) * 2, ((py + y) * 12 + px + 3) * 2)))
    }
    order.forEach((from, to) => expect(patch(out, to)).toEqual(patch(image, from)))
    expect(sorted(out)).toEqual(sorted(image))
  })

  it('patch shuffle in the sampler permutes the pixels of its one sample', () => {
    const one = images(1)
    const { data } = take(augmentSampler(one, 2, 'patch-shuffle'), 1, 0)
    const original = normalisedSample(one, 0)
    expect(sorted(data)).toEqual(sorted(original))
    expect(Array.from(data)).not.toEqual(Array.from(original))
  })

  it('rotation by 180° twice, or by 90° four times, is the identity; 90° turns counter-clockwise', () => {
    const shape = [4, 4, 2]
    const image = Float32Array.from({ length: 32 }, (_, i) => i)
    expect(rotateQuarter(rotateQuarter(image, shape, 2), shape, 2)).toEqual(image)
    let turned: Float32Array = image
    for (let i = 0; i < 4; i++) turned = rotateQuarter(turned, shape, 1)
    expect(turned).toEqual(image)
    expect(rotateQuarter(image, shape, 2)).not.toEqual(image)
    // The top-right pixel (y 0, x 3) lands top-left.
    const once = rotateQuarter(image, shape, 1)
    expect([once[0], once[1]]).toEqual([image[6], image[7]])
    expect(rotateQuarter(image, shape, 3)).toEqual(rotateQuarter(once, shape, 2))
  })

  it('rotation in the sampler is a quarter turn of its one sample (180° for non-square images)', () => {
    const square = images(1)
    const { data } = take(augmentSampler(square, 3, 'rotate'), 1, 0)
    const original = normalisedSample(square, 0)
    expect([1, 2, 3].some((t) => rotateQuarter(original, [8, 8, 1], t).every((v, i) => v === data[i]))).toBe(true)
    const wide = images(1, [6, 10, 1])
    expect(take(augmentSampler(wide, 3, 'rotate'), 1, 0).data).toEqual(rotateQuarter(normalisedSample(wide, 0), [6, 10, 1], 2))
  })

  it('crops strongly and resizes back bilinearly: values stay within the original’s range', () => {
    const one = images(1)
    const { data, shape } = take(augmentSampler(one, 1, 'crop'), 3, 0)
    expect(shape).toEqual([3, 8, 8, 1])
    const original = normalisedSample(one, 0)
    const [low, high] = [Math.min(...original), Math.max(...original)]
    expect(Array.from(data).every((v) => v >= low - 1e-5 && v <= high + 1e-5)).toBe(true)
    for (let i = 0; i < 3; i++) expect(Array.from(data.subarray(i * 64, (i + 1) * 64))).not.toEqual(Array.from(original))
  })

  it('mixes two samples of different classes by their pixel average', () => {
    const two = images(2, [8, 8, 1], 5, 2)
    const { data } = take(augmentSampler(two, 1, 'mix'), 4, 0)
    const expected = Array.from(mixSamples(normalisedSample(two, 0), normalisedSample(two, 1)))
    for (let i = 0; i < 4; i++) Array.from(data.subarray(i * 64, (i + 1) * 64)).forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5))
  })

  it('refuse samples that are not images', () => {
    expect(() => augmentSampler(images(4, [16]), 1)).toThrow(/need images \(H×W×C\); Images 16 has samples of shape 16/)
    expect(() => augmentSampler(images(4, [3, 8, 1]), 1)).toThrow(/at least 4×4 pixels/)
  })
})

describe('the OOD sampler', () => {
  it('refuses an OOD set whose samples have another shape, naming both', () => {
    expect(() => oodSampler(images(4, [28, 28, 1]), 1, images(4, [8, 8, 1]))).toThrow(
      /The OOD set Images 28×28×1 has samples of shape 28×28×1 but Images 8×8×1 has 8×8×1/,
    )
  })

  it('draws the OOD training split, normalised as the in-distribution data', () => {
    const ood = { ...images(1, [8, 8, 1], 7), normalization: { scale: 1, mean: 0, std: 1 } }
    const inDistribution = images(10)
    const { data } = take(oodSampler(ood, 1, inDistribution), 1, 0)
    const expected = Array.from(ood.train.x, (v) => (v / 255 - 0.5) / 0.25)
    Array.from(data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5))
  })
})

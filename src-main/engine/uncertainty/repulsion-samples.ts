// Where function-space repulsion samples come from: training samples, label-destroying augmentations of them, or an
// unlabelled out-of-distribution set. A sampler's batch depends only on (seed, step), whatever was drawn before.
import * as tf from '@tensorflow/tfjs'
import { sampleSize, type Dataset, type Normalization, type Split } from '../data/dataset.ts'
import { hashKey } from '../normal-random.ts'
import { seededRandom, shuffled } from '../random.ts'

/** `batch` normalised inputs [batch, ...sampleShape] for training step `step`; the caller disposes the tensor. */
export type RepulsionSampler = (batch: number, step: number) => tf.Tensor

export type AugmentKind = 'crop' | 'patch-shuffle' | 'rotate' | 'mix'
export const AUGMENT_KINDS: readonly AugmentKind[] = ['crop', 'patch-shuffle', 'rotate', 'mix']

/** Uniformly drawn training samples (with replacement). */
export function trainSampler(dataset: Dataset, seed: number): RepulsionSampler {
  return (batch, step) => {
    const random = stepRandom('train', seed, step, batch)
    const indices = draw(dataset.train.count, batch, random)
    return tf.tensor(normalised(dataset.train, indices, dataset.sampleShape, dataset.normalization), [batch, ...dataset.sampleShape])
  }
}

/**
 * Training images [H, W, C] made unrecognisable: a strong crop (a square of 25–50 % of the side, bilinearly resized back
 * by tf.image.cropAndResize), the 4×4 grid of patches shuffled, a large rotation (90°, 180° or 270°; 180° only for
 * non-square images), or the pixel average of two samples of different classes. 'random' picks one per sample.
 */
export function augmentSampler(dataset: Dataset, seed: number, kind: AugmentKind | 'random' = 'random'): RepulsionSampler {
  const shape = dataset.sampleShape
  if (shape.length !== 3) throw new Error(`Augmented repulsion samples need images (H×W×C); ${dataset.name} has samples of shape ${shape.join('×')}.`)
  const [height, width] = shape as [number, number, number]
  if (height < 4 || width < 4) throw new Error(`Augmented repulsion samples need images of at least 4×4 pixels; ${dataset.name} has ${height}×${width}.`)
  const size = sampleSize(shape)
  const { train } = dataset
  return (batch, step) => {
    const random = stepRandom(`augment-${kind}`, seed, step, batch)
    const indices = draw(train.count, batch, random)
    const values = normalised(train, indices, shape, dataset.normalization)
    const crops: number[] = []
    const boxes: number[] = []
    indices.forEach((index, i) => {
      const chosen = kind === 'random' ? AUGMENT_KINDS[Math.floor(random() * AUGMENT_KINDS.length)]! : kind
      const image = values.subarray(i * size, (i + 1) * size)
      if (chosen === 'crop') {
        const side = 0.25 + 0.25 * random()
        const [top, left] = [random() * (1 - side), random() * (1 - side)]
        crops.push(i)
        boxes.push(top, left, top + side, left + side)
      } else if (chosen === 'patch-shuffle') {
        image.set(shufflePatches(image, shape, shuffled([...Array(16).keys()], random)))
      } else if (chosen === 'rotate') {
        image.set(rotateQuarter(image, shape, height === width ? 1 + Math.floor(random() * 3) : 2))
      } else {
        const partner = partnerOf(train, index, random)
        image.set(mixSamples(image, normalised(train, [partner], shape, dataset.normalization)))
      }
    })
    if (crops.length) cropInPlace(values, shape, crops, boxes)
    return tf.tensor(values, [batch, ...shape])
  }
}

/**
 * Samples of an unlabelled OOD set's training split (its test split stays for evaluating OOD detection), normalised as
 * the in-distribution data is, since that is what the network expects.
 */
export function oodSampler(oodDataset: Dataset, seed: number, dataset: Dataset): RepulsionSampler {
  const [ood, own] = [oodDataset.sampleShape, dataset.sampleShape]
  if (ood.length !== own.length || ood.some((n, i) => n !== own[i])) {
    throw new Error(
      `The OOD set ${oodDataset.name} has samples of shape ${ood.join('×')} but ${dataset.name} has ${own.join('×')}; repulsion samples must fit the network's input.`,
    )
  }
  return (batch, step) => {
    const random = stepRandom('ood', seed, step, batch)
    const indices = draw(oodDataset.train.count, batch, random)
    return tf.tensor(normalised(oodDataset.train, indices, own, dataset.normalization), [batch, ...own])
  }
}

/** An image's grid×grid patches moved so that output patch p is input patch order[p]; rows and columns beyond the grid stay. */
export function shufflePatches(image: Float32Array, shape: readonly number[], order: readonly number[], grid = 4): Float32Array {
  const [height, width, channels] = shape as [number, number, number]
  const [ph, pw] = [Math.floor(height / grid), Math.floor(width / grid)]
  if (order.length !== grid * grid) throw new Error(`A ${grid}×${grid} patch shuffle needs ${grid * grid} patch indices, not ${order.length}.`)
  const out = image.slice()
  order.forEach((from, to) => {
    const [fy, fx, ty, tx] = [Math.floor(from / grid) * ph, (from % grid) * pw, Math.floor(to / grid) * ph, (to % grid) * pw]
    for (let y = 0; y < ph; y++) {
      const source = ((fy + y) * width + fx) * channels
      out.set(image.subarray(source, source + pw * channels), ((ty + y) * width + tx) * channels)
    }
  })
  return out
}

/** An image turned by `turns` × 90° counter-clockwise; odd turns swap H and W (so need square images to keep shape). */
export function rotateQuarter(image: Float32Array, shape: readonly number[], turns: number): Float32Array {
  const [height, width, channels] = shape as [number, number, number]
  const t = ((turns % 4) + 4) % 4
  const outWidth = t % 2 ? height : width
  const out = new Float32Array(image.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [oy, ox] = t === 0 ? [y, x] : t === 1 ? [width - 1 - x, y] : t === 2 ? [height - 1 - y, width - 1 - x] : [x, height - 1 - y]
      const from = (y * width + x) * channels
      out.set(image.subarray(from, from + channels), (oy * outWidth + ox) * channels)
    }
  }
  return out
}

/** The pixel average of two samples. */
export function mixSamples(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => (v + b[i]!) / 2)
}

/** A random sample of another class than `index`'s (any sample if 20 draws find none). */
function partnerOf(split: Split, index: number, random: () => number): number {
  let partner = Math.floor(random() * split.count)
  for (let attempt = 0; attempt < 20 && split.y[partner] === split.y[index]; attempt++) partner = Math.floor(random() * split.count)
  return partner
}

/** Replaces the chosen images by their crops, bilinearly resized back to H×W. */
function cropInPlace(values: Float32Array, shape: readonly number[], chosen: readonly number[], boxes: readonly number[]): void {
  const size = sampleSize(shape)
  const [height, width, channels] = shape as [number, number, number]
  const originals = new Float32Array(chosen.length * size)
  chosen.forEach((i, c) => originals.set(values.subarray(i * size, (i + 1) * size), c * size))
  const cropped = tf.tidy(() => {
    const images = tf.tensor4d(originals, [chosen.length, height, width, channels])
    return tf.image.cropAndResize(
      images,
      tf.tensor2d(boxes as number[], [chosen.length, 4]),
      tf.tensor1d([...chosen.keys()], 'int32'),
      [height, width],
      'bilinear',
    )
  })
  const data = cropped.dataSync()
  cropped.dispose()
  chosen.forEach((i, c) => values.set(data.subarray(c * size, (c + 1) * size), i * size))
}

function stepRandom(kind: string, seed: number, step: number, batch: number): () => number {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`A repulsion batch is ${batch} samples; it must be a whole number of at least 1.`)
  return seededRandom(hashKey(['repulsion-samples', kind, seed, step]))
}

function draw(count: number, batch: number, random: () => number): number[] {
  if (count < 1) throw new Error('There are no samples to draw repulsion samples from.')
  return Array.from({ length: batch }, () => Math.floor(random() * count))
}

/** Samples as float32, normalised as batchTensors does. */
function normalised(split: Split, indices: readonly number[], shape: readonly number[], { scale, mean, std }: Normalization): Float32Array {
  const size = sampleSize(shape)
  const out = new Float32Array(indices.length * size)
  const [a, b] = [scale / std, -mean / std]
  indices.forEach((from, to) => {
    const source = split.x.subarray(from * size, (from + 1) * size)
    for (let i = 0; i < size; i++) out[to * size + i] = source[i]! * a + b
  })
  return out
}

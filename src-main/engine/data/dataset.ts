// A dataset in memory: splits of samples (HWC, uint8 or float32) with integer labels, class names and a normalisation.
import * as tf from '@tensorflow/tfjs'
import { seededRandom, shuffled } from '../random.ts'

export interface Split {
  /** count × product(sampleShape) values, sample-major. */
  x: Uint8Array | Float32Array
  y: Int32Array
  count: number
}

export interface Normalization {
  /** value = (raw × scale − mean) / std; scale is 1/255 for uint8 images. */
  scale: number
  mean: number
  std: number
}

export interface Dataset {
  id: string
  name: string
  sampleShape: number[]
  classNames: string[]
  normalization: Normalization
  train: Split
  validation: Split | null
  test: Split
}

export type SplitName = 'train' | 'validation' | 'test'

export function sampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** Picks `indices` from a split into a new split (copying). */
export function take(split: Split, indices: readonly number[], shape: readonly number[]): Split {
  const size = sampleSize(shape)
  const x = new (split.x.constructor as Uint8ArrayConstructor | Float32ArrayConstructor)(indices.length * size)
  const y = new Int32Array(indices.length)
  indices.forEach((from, to) => {
    x.set(split.x.subarray(from * size, (from + 1) * size), to * size)
    y[to] = split.y[from]!
  })
  return { x, y, count: indices.length }
}

/** Indices of a class-balanced subset: `perClass` of each class (or all of a class that has fewer), seeded. */
export function stratifiedIndices(labels: Int32Array, classes: number, total: number, seed: number): number[] {
  const random = seededRandom(seed)
  const byClass = Array.from({ length: classes }, () => [] as number[])
  labels.forEach((label, i) => byClass[label]!.push(i))
  const perClass = Math.floor(total / classes)
  return shuffled(
    byClass.flatMap((members) => shuffled(members, random).slice(0, perClass)),
    random,
  )
}

/** Splits a validation set off the training split, stratified and seeded. */
export function withValidation(dataset: Dataset, fraction: number, seed: number): Dataset {
  if (fraction <= 0) return { ...dataset, validation: null }
  const classes = dataset.classNames.length
  const validationIndices = new Set(stratifiedIndices(dataset.train.y, classes, Math.round(dataset.train.count * fraction), seed))
  const trainIndices = [...Array(dataset.train.count).keys()].filter((i) => !validationIndices.has(i))
  return {
    ...dataset,
    train: take(dataset.train, trainIndices, dataset.sampleShape),
    validation: take(dataset.train, [...validationIndices], dataset.sampleShape),
  }
}

/** Mean and std of the training data after scaling, for the normalisation. */
export function fitNormalization(split: Split, scale: number): Normalization {
  let sum = 0
  let sumSquares = 0
  for (const v of split.x) {
    const s = v * scale
    sum += s
    sumSquares += s * s
  }
  const n = split.x.length
  const mean = sum / n
  return { scale, mean, std: Math.sqrt(Math.max(sumSquares / n - mean * mean, 1e-12)) }
}

/** A batch as tensors: normalised float32 samples [n, ...shape] and int32 labels [n]. */
export function batchTensors(dataset: Dataset, split: Split, indices: readonly number[]): { x: tf.Tensor; y: tf.Tensor1D } {
  const size = sampleSize(dataset.sampleShape)
  const { scale, mean, std } = dataset.normalization
  const values = new Float32Array(indices.length * size)
  const labels = new Int32Array(indices.length)
  const a = scale / std
  const b = -mean / std
  indices.forEach((from, to) => {
    const source = split.x.subarray(from * size, (from + 1) * size)
    const offset = to * size
    for (let i = 0; i < size; i++) values[offset + i] = source[i]! * a + b
    labels[to] = split.y[from]!
  })
  return { x: tf.tensor(values, [indices.length, ...dataset.sampleShape]), y: tf.tensor1d(labels, 'int32') }
}

export function classCounts(split: Split, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0)
  for (const label of split.y) counts[label]!++
  return counts
}

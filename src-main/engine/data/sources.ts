// Reading whole datasets from files: IDX image/label pairs and NPZ archives (Keras-style names), fully validated.
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fitNormalization, type Dataset, type Split } from './dataset.ts'
import { DataFileError } from './errors.ts'
import { parseIdx } from './idx.ts'
import { parseNpz, type NpyArray } from './npy.ts'

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

/** Debian's dataset-fashion-mnist package puts the four IDX files here. */
export const SYSTEM_FASHION_MNIST = '/usr/share/datasets/fashion-mnist'

export function readIdxSplit(imagesFile: string, labelsFile: string): { split: Split; sampleShape: number[] } {
  const images = parseIdx(readFileSync(imagesFile), basename(imagesFile))
  const labels = parseIdx(readFileSync(labelsFile), basename(labelsFile))
  if (!(images.data instanceof Uint8Array) && !(images.data instanceof Float32Array)) {
    throw new DataFileError(basename(imagesFile), 'images must be unsigned bytes or float32.')
  }
  if (labels.shape.length !== 1) throw new DataFileError(basename(labelsFile), `labels must be a 1-D array, not ${labels.shape.join('×')}.`)
  if (!Array.from(labels.data as ArrayLike<number>).every(Number.isInteger)) {
    throw new DataFileError(basename(labelsFile), 'labels must be whole numbers; this file holds fractional values.')
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new DataFileError(basename(labelsFile), `${labels.shape[0]} labels for ${images.shape[0]} images; the counts must match.`)
  }
  const sampleShape = images.shape.length === 3 ? [images.shape[1]!, images.shape[2]!, 1] : images.shape.slice(1)
  return { split: { x: images.data, y: Int32Array.from(labels.data as ArrayLike<number>), count: labels.shape[0]! }, sampleShape }
}

function findIdx(folder: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) if (existsSync(join(folder, name))) return join(folder, name)
  throw new DataFileError(folder, `missing ${stem}(.gz).`)
}

/** A folder with the four MNIST-style files (train-images-idx3-ubyte[.gz] …). */
export function readIdxFolder(folder: string, meta: { id: string; name: string; classNames?: string[] }): Dataset {
  const train = readIdxSplit(findIdx(folder, 'train-images-idx3-ubyte'), findIdx(folder, 'train-labels-idx1-ubyte'))
  const test = readIdxSplit(findIdx(folder, 't10k-images-idx3-ubyte'), findIdx(folder, 't10k-labels-idx1-ubyte'))
  if (train.sampleShape.join() !== test.sampleShape.join()) {
    throw new DataFileError(folder, `train samples are ${train.sampleShape.join('×')} but test samples are ${test.sampleShape.join('×')}.`)
  }
  const classes = meta.classNames ?? classNamesFrom(train.split, test.split)
  checkLabels(folder, [train.split, test.split], classes.length)
  return {
    id: meta.id,
    name: meta.name,
    sampleShape: train.sampleShape,
    classNames: classes,
    normalization: fitNormalization(train.split, train.split.x instanceof Uint8Array ? 1 / 255 : 1),
    train: train.split,
    validation: null,
    test: test.split,
  }
}

function classNamesFrom(...splits: Split[]): string[] {
  let max = -1
  for (const s of splits) for (const label of s.y) max = Math.max(max, label)
  return Array.from({ length: max + 1 }, (_, i) => String(i))
}

function checkLabels(file: string, splits: Split[], classes: number): void {
  for (const split of splits) {
    for (const label of split.y) {
      if (!Number.isInteger(label) || label < 0 || label >= classes) {
        throw new DataFileError(file, `label ${label} is outside the ${classes} classes (0 to ${classes - 1}).`)
      }
    }
  }
}

/** NPZ with x_train, y_train, x_test, y_test (optionally x_val, y_val); images float32 or uint8, labels integers. */
export function readNpzDataset(file: string, meta: { id: string; name: string; classNames?: string[] }): Dataset {
  const arrays = parseNpz(readFileSync(file), basename(file))
  const need = (key: string): NpyArray => {
    const a = arrays[key]
    if (!a) throw new DataFileError(basename(file), `missing array '${key}'; an NPZ dataset needs x_train, y_train, x_test and y_test.`)
    return a
  }
  const split = (xKey: string, yKey: string): { split: Split; sampleShape: number[] } => {
    const x = need(xKey)
    const y = need(yKey)
    if (!(x.data instanceof Float32Array) && !(x.data instanceof Uint8Array)) {
      throw new DataFileError(basename(file), `'${xKey}' is ${x.dtype}; images must be float32 or uint8.`)
    }
    if (y.data instanceof Float32Array || y.data instanceof Float64Array) {
      throw new DataFileError(basename(file), `'${yKey}' is ${y.dtype}; labels must be integers.`)
    }
    if (y.shape.length !== 1) throw new DataFileError(basename(file), `'${yKey}' must be 1-D, not (${y.shape.join(', ')}).`)
    if (x.shape[0] !== y.shape[0]) throw new DataFileError(basename(file), `'${xKey}' has ${x.shape[0]} samples but '${yKey}' has ${y.shape[0]} labels.`)
    const labels = Int32Array.from(y.data as ArrayLike<number | bigint>, Number)
    if (labels.some((label, i) => label !== Number((y.data as ArrayLike<number | bigint>)[i]))) {
      throw new DataFileError(basename(file), `'${yKey}' holds labels outside the 32-bit range.`)
    }
    const sampleShape = x.shape.length === 3 ? [...x.shape.slice(1), 1] : x.shape.slice(1)
    return { split: { x: x.data, y: labels, count: y.shape[0]! }, sampleShape }
  }
  const train = split('x_train', 'y_train')
  const test = split('x_test', 'y_test')
  const validation = arrays.x_val ? split('x_val', 'y_val') : null
  for (const [name, other] of [
    ['test', test],
    ['validation', validation],
  ] as const) {
    if (other && other.sampleShape.join() !== train.sampleShape.join()) {
      throw new DataFileError(basename(file), `train samples are ${train.sampleShape.join('×')} but ${name} samples are ${other.sampleShape.join('×')}.`)
    }
  }
  const splits = [train.split, test.split, ...(validation ? [validation.split] : [])]
  const classes = meta.classNames ?? classNamesFrom(...splits)
  checkLabels(basename(file), splits, classes.length)
  return {
    id: meta.id,
    name: meta.name,
    sampleShape: train.sampleShape,
    classNames: classes,
    normalization: fitNormalization(train.split, train.split.x instanceof Uint8Array ? 1 / 255 : 1),
    train: train.split,
    validation: validation?.split ?? null,
    test: test.split,
  }
}

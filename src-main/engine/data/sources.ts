// Reading whole datasets from files: IDX image/label pairs and NPZ archives (Keras-style names), fully validated.
// The readers take bytes, so an import reads each file once (regular files only, see regular-file.ts) and keeps
// exactly what it checked.
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fitNormalization, type Dataset, type Split } from './dataset.ts'
import { DataFileError } from './errors.ts'
import { parseIdx } from './idx.ts'
import { MAX_CLASSES } from './limits.ts'
import { parseNpz, type NpyArray } from './npy.ts'
import { readRegularFile } from './regular-file.ts'

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

/** Debian's dataset-fashion-mnist package puts the four IDX files here. */
export const SYSTEM_FASHION_MNIST = '/usr/share/datasets/fashion-mnist'

export interface NamedBytes {
  /** How errors name the file. */
  name: string
  bytes: Uint8Array
}

export function readIdxSplit(imagesFile: string, labelsFile: string): { split: Split; sampleShape: number[] } {
  return idxSplit({ name: basename(imagesFile), bytes: readRegularFile(imagesFile) }, { name: basename(labelsFile), bytes: readRegularFile(labelsFile) })
}

export function idxSplit(imagesFile: NamedBytes, labelsFile: NamedBytes): { split: Split; sampleShape: number[] } {
  const images = parseIdx(imagesFile.bytes, imagesFile.name)
  const labels = parseIdx(labelsFile.bytes, labelsFile.name)
  if (!(images.data instanceof Uint8Array) && !(images.data instanceof Float32Array)) {
    throw new DataFileError(imagesFile.name, 'images must be unsigned bytes or float32.')
  }
  if (labels.shape.length !== 1) throw new DataFileError(labelsFile.name, `labels must be a 1-D array, not ${labels.shape.join('×')}.`)
  if (!Array.from(labels.data as ArrayLike<number>).every(Number.isInteger)) {
    throw new DataFileError(labelsFile.name, 'labels must be whole numbers; this file holds fractional values.')
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new DataFileError(labelsFile.name, `${labels.shape[0]} labels for ${images.shape[0]} images; the counts must match.`)
  }
  const sampleShape = images.shape.length === 3 ? [images.shape[1]!, images.shape[2]!, 1] : images.shape.slice(1)
  return { split: { x: images.data, y: Int32Array.from(labels.data as ArrayLike<number>), count: labels.shape[0]! }, sampleShape }
}

export const IDX_STEMS = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] as const

/** The file of an IDX folder for one stem, gzipped or not. */
export function findIdx(folder: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) if (existsSync(join(folder, name))) return join(folder, name)
  throw new DataFileError(folder, `missing ${stem}(.gz).`)
}

/** Whether a folder holds all four IDX files (else it may be a folder of WAV class folders). */
export function isIdxFolder(folder: string): boolean {
  return IDX_STEMS.every((stem) => [`${stem}.gz`, stem].some((name) => existsSync(join(folder, name))))
}

/** A folder with the four MNIST-style files (train-images-idx3-ubyte[.gz] …). */
export function readIdxFolder(folder: string, meta: DatasetMeta): Dataset {
  const [trainImages, trainLabels, testImages, testLabels] = IDX_STEMS.map((stem) => {
    const file = findIdx(folder, stem)
    return { name: basename(file), bytes: readRegularFile(file) }
  })
  return idxDataset(folder, [trainImages!, trainLabels!, testImages!, testLabels!], meta)
}

export interface DatasetMeta {
  id: string
  name: string
  classNames?: string[]
}

/** The four IDX files (in IDX_STEMS order) as a dataset; `folder` names the dataset in errors. */
export function idxDataset(folder: string, files: [NamedBytes, NamedBytes, NamedBytes, NamedBytes], meta: DatasetMeta): Dataset {
  const train = idxSplit(files[0], files[1])
  const test = idxSplit(files[2], files[3])
  if (train.sampleShape.join() !== test.sampleShape.join()) {
    throw new DataFileError(folder, `train samples are ${train.sampleShape.join('×')} but test samples are ${test.sampleShape.join('×')}.`)
  }
  const classes = meta.classNames ?? classNamesFrom(folder, train.split, test.split)
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

/**
 * Class names 0 … largest label, for files that name no classes. The largest label is checked first: one label of
 * 99,999,999 must not become a hundred million class names.
 */
function classNamesFrom(file: string, ...splits: Split[]): string[] {
  let max = -1
  let labels = 0
  for (const s of splits) {
    labels += s.y.length
    for (const label of s.y) max = Math.max(max, label)
  }
  const classes = max + 1
  if (classes > MAX_CLASSES) {
    throw new DataFileError(
      file,
      `its largest label is ${max.toLocaleString('en-US')}, which would make ${classes.toLocaleString('en-US')} classes; at most ${MAX_CLASSES.toLocaleString('en-US')} classes are supported (labels number the classes from 0).`,
    )
  }
  if (classes > labels) {
    throw new DataFileError(
      file,
      `its largest label is ${max}, which would make ${classes} classes, but it holds only ${labels} labels; labels must number the classes from 0 without large gaps.`,
    )
  }
  return Array.from({ length: classes }, (_, i) => String(i))
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

const NPZ_ARRAYS = new Set(['x_train', 'y_train', 'x_test', 'y_test', 'x_val', 'y_val'])

/** NPZ with x_train, y_train, x_test, y_test (optionally x_val, y_val); images float32 or uint8, labels integers. */
export function readNpzDataset(file: string, meta: DatasetMeta): Dataset {
  return npzDataset({ name: basename(file), bytes: readRegularFile(file) }, meta)
}

/** An NPZ dataset from its bytes; other arrays in the archive are never inflated. */
export function npzDataset(file: NamedBytes, meta: DatasetMeta): Dataset {
  const arrays = parseNpz(file.bytes, file.name, (name) => NPZ_ARRAYS.has(name))
  const need = (key: string): NpyArray => {
    const a = arrays[key]
    if (!a) throw new DataFileError(file.name, `missing array '${key}'; an NPZ dataset needs x_train, y_train, x_test and y_test.`)
    return a
  }
  const split = (xKey: string, yKey: string): { split: Split; sampleShape: number[] } => {
    const x = need(xKey)
    const y = need(yKey)
    if (!(x.data instanceof Float32Array) && !(x.data instanceof Uint8Array)) {
      throw new DataFileError(file.name, `'${xKey}' is ${x.dtype}; images must be float32 or uint8.`)
    }
    if (y.data instanceof Float32Array || y.data instanceof Float64Array) {
      throw new DataFileError(file.name, `'${yKey}' is ${y.dtype}; labels must be integers.`)
    }
    if (x.shape.length < 2 || x.shape.slice(1).some((d) => d === 0)) {
      throw new DataFileError(file.name, `'${xKey}' has shape (${x.shape.join(', ')}); it must hold samples of at least one value each, [N, …].`)
    }
    if (y.shape.length !== 1) throw new DataFileError(file.name, `'${yKey}' must be 1-D, not (${y.shape.join(', ')}).`)
    if (x.shape[0] !== y.shape[0]) throw new DataFileError(file.name, `'${xKey}' has ${x.shape[0]} samples but '${yKey}' has ${y.shape[0]} labels.`)
    const labels = Int32Array.from(y.data as ArrayLike<number | bigint>, Number)
    if (labels.some((label, i) => label !== Number((y.data as ArrayLike<number | bigint>)[i]))) {
      throw new DataFileError(file.name, `'${yKey}' holds labels outside the 32-bit range.`)
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
      throw new DataFileError(file.name, `train samples are ${train.sampleShape.join('×')} but ${name} samples are ${other.sampleShape.join('×')}.`)
    }
  }
  const splits = [train.split, test.split, ...(validation ? [validation.split] : [])]
  const classes = meta.classNames ?? classNamesFrom(file.name, ...splits)
  checkLabels(file.name, splits, classes.length)
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

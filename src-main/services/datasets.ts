// Datasets: the built-in ones plus those the user imported; importing validates fully before anything is kept.
import { randomBytes } from 'node:crypto'
import { copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { BenchsideError, type DatasetDetail, type DatasetInfo } from '../contract/index.ts'
import type { Dataset } from '../engine/data/dataset.ts'
import { DataFileError } from '../engine/data/errors.ts'
import type { DatasetSource } from '../engine/data/registry.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import { engine, loadEngine } from './lazy-engine.ts'

export class DatasetCatalog {
  constructor(private readonly store: Store) {}

  sources(): DatasetSource[] {
    const imported = this.store.datasets.list().map((row): DatasetSource => ({
      id: row.id,
      name: row.name,
      format: row.format,
      path: row.path,
      classNames: row.classNames,
      origin: 'imported',
      description: `Imported on ${new Date(row.createdAt).toISOString().slice(0, 10)}.`,
    }))
    return [...engine().registry.builtinDatasets(), ...imported]
  }

  resolve(id: string): DatasetSource {
    const source = this.sources().find((s) => s.id === id)
    if (!source) {
      throw new BenchsideError({
        code: 'NOT_FOUND',
        field: 'dataset',
        message: `No dataset '${id}'. Known: ${this.sources()
          .map((s) => s.id)
          .join(', ')}. Import one with 'benchside data import'.`,
      })
    }
    return source
  }

  load(id: string): Dataset {
    return loadFriendly(this.resolve(id))
  }
}

/** Loads a dataset, turning file problems into errors a user can act on. */
function loadFriendly(source: DatasetSource): Dataset {
  try {
    return engine().registry.loadDataset(source)
  } catch (error) {
    if (error instanceof DataFileError) throw new BenchsideError({ code: 'INVALID_ARGS', field: 'path', message: error.message })
    throw error
  }
}

function info(source: DatasetSource, d: Dataset): DatasetInfo {
  return {
    id: source.id,
    name: source.name,
    origin: source.origin,
    format: source.format,
    description: source.description,
    sampleShape: d.sampleShape,
    classNames: d.classNames,
    counts: { train: d.train.count, validation: d.validation?.count ?? 0, test: d.test.count },
  }
}

const IDX_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']

export function datasetHandlers(store: Store, catalog: DatasetCatalog): HandlersFor<'listDatasets' | 'getDataset' | 'importDataset'> {
  return {
    listDatasets: async () => {
      await loadEngine()
      return catalog.sources().map((s) => info(s, loadFriendly(s)))
    },

    getDataset: async ({ id, samplesPerClass }) => {
      const { classCounts, sampleSize } = (await loadEngine()).datasets
      const source = catalog.resolve(id)
      const d = loadFriendly(source)
      const classes = d.classNames.length
      const [height, width] = d.sampleShape.length >= 2 ? [d.sampleShape[0]!, d.sampleShape[1]!] : [1, d.sampleShape[0]!]
      const channels = d.sampleShape[2] ?? 1
      const size = sampleSize(d.sampleShape)
      const samples: DatasetDetail['samples'] = []
      const taken = new Array<number>(classes).fill(0)
      for (let i = 0; i < d.test.count && samples.length < samplesPerClass * classes; i++) {
        const label = d.test.y[i]!
        if (taken[label]! >= samplesPerClass) continue
        taken[label]!++
        const values = Array.from({ length: width * height }, (_, p) => d.test.x[i * size + p * channels]!)
        const lo = Math.min(...values)
        const hi = Math.max(...values)
        samples.push({ label, width, height, pixels: values.map((v) => Math.round(((v - lo) / (hi - lo || 1)) * 255)) })
      }
      return { ...info(source, d), classCounts: { train: classCounts(d.train, classes), test: classCounts(d.test, classes) }, samples }
    },

    importDataset: async ({ path, name }) => {
      await loadEngine()
      if (!existsSync(path)) throw new BenchsideError({ code: 'NOT_FOUND', field: 'path', message: `There is no file or folder at ${path}.` })
      const isFolder = statSync(path).isDirectory()
      const hasIdx = isFolder && IDX_FILES.every((stem) => [`${stem}.gz`, stem].some((n) => existsSync(join(path, n))))
      const format = !isFolder ? 'npz' : hasIdx ? 'idx' : 'wav-folder'
      const id = `${
        basename(path)
          .replace(/\.npz$/i, '')
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '') || 'dataset'
      }-${randomBytes(3).toString('hex')}`
      const title = name ?? basename(path)
      // Validate the original fully first; then copy into a temporary folder and rename it into place.
      const dataset = loadFriendly({ id: `check-${id}`, name: title, format, path, origin: 'imported', description: '' })
      const finalDir = join(store.dataDir, 'datasets', id)
      const tmpDir = `${finalDir}.importing`
      mkdirSync(tmpDir, { recursive: true })
      try {
        if (format === 'idx') {
          for (const stem of IDX_FILES) {
            const file = [`${stem}.gz`, stem].map((n) => join(path, n)).find(existsSync)!
            copyFileSync(file, join(tmpDir, basename(file)))
          }
        } else if (format === 'wav-folder') cpSync(path, tmpDir, { recursive: true })
        else copyFileSync(path, join(tmpDir, 'data.npz'))
        renameSync(tmpDir, finalDir)
      } catch (error) {
        rmSync(tmpDir, { recursive: true, force: true })
        throw error
      }
      const storedPath = format === 'npz' ? join(finalDir, 'data.npz') : finalDir
      store.datasets.insert({
        id,
        name: title,
        format,
        path: storedPath,
        sampleShape: dataset.sampleShape,
        classNames: dataset.classNames,
        counts: { train: dataset.train.count, validation: dataset.validation?.count ?? 0, test: dataset.test.count },
        createdAt: Date.now(),
      })
      return info(catalog.resolve(id), dataset)
    },
  }
}

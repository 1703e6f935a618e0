// Datasets: the built-in ones plus those the user imported. Importing is a job (jobs/kinds/dataset-import.ts) that
// checks everything in its own process; services/dataset-imports.ts registers the dataset when it is done.
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import { BenchsideError, type DatasetDetail, type DatasetInfo } from '../contract/index.ts'
import type { Dataset } from '../engine/data/dataset.ts'
import { DataFileError } from '../engine/data/errors.ts'
import type { DatasetSource } from '../engine/data/registry.ts'
import type { JobManager } from '../jobs/manager.ts'
import type { Store } from '../store/store.ts'
import { datasetsDir } from './dataset-imports.ts'
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

  /** Where import jobs stage their copies and imported datasets are kept. */
  importsDir(): string {
    return datasetsDir(this.store)
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

type Summary = Pick<DatasetInfo, 'sampleShape' | 'classNames' | 'counts'>

function info(source: DatasetSource, d: Summary): DatasetInfo {
  return {
    id: source.id,
    name: source.name,
    origin: source.origin,
    format: source.format,
    description: source.description,
    sampleShape: d.sampleShape,
    classNames: d.classNames,
    counts: d.counts,
  }
}

function summaryOf(d: Dataset): Summary {
  return { sampleShape: d.sampleShape, classNames: d.classNames, counts: { train: d.train.count, validation: d.validation?.count ?? 0, test: d.test.count } }
}

export function datasetHandlers(store: Store, catalog: DatasetCatalog, jobs: JobManager): HandlersFor<'listDatasets' | 'getDataset' | 'importDataset'> {
  return {
    listDatasets: async () => {
      await loadEngine()
      return catalog.sources().map((s) => {
        // An imported dataset is listed as its import recorded it: listing loads nothing it does not have to.
        const row = s.origin === 'imported' ? store.datasets.get(s.id) : null
        return info(s, row ?? summaryOf(loadFriendly(s)))
      })
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
      return { ...info(source, summaryOf(d)), classCounts: { train: classCounts(d.train, classes), test: classCounts(d.test, classes) }, samples }
    },

    importDataset: ({ path, name }) => {
      // Only this is checked here, so a mistyped path gets its answer at once; the job reads and checks the rest.
      if (!existsSync(path)) throw new BenchsideError({ code: 'NOT_FOUND', field: 'path', message: `There is no file or folder at ${path}.` })
      return jobs.start({ kind: 'dataset-import', params: { path, name } }, { name: `import ${name ?? basename(path)}` })
    },
  }
}

// The dataset-import job: reads and checks a dataset the user named (in this process, off the main loop), writes the
// checked files into its staging folder and reports what it found. The parent moves the folder into place and
// registers the dataset when the job is done (services/dataset-imports.ts); a job that fails leaves no staging folder.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { readDatasetForImport } from '../../engine/data/dataset-import.ts'
import { pathInside } from '../../store/files.ts'
import type { JobContext } from '../context.ts'
import { importStagingDir } from '../import-staging.ts'

/** A readable id from the file or folder name, made unique by the run's first characters. */
export function datasetIdFor(path: string, runUuid: string): string {
  const stem =
    basename(path)
      .replace(/\.npz$/i, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'dataset'
  return `${stem}-${runUuid.slice(0, 8)}`
}

export default async function datasetImportJob(context: JobContext<'dataset-import'>): Promise<void> {
  const { path } = context.params
  const staging = importStagingDir(context.inputs.datasetsDir, context.runUuid)
  // A resumed import starts over.
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  try {
    const id = datasetIdFor(path, context.runUuid)
    const name = context.params.name ?? basename(path)
    const { format, dataset } = await readDatasetForImport(
      path,
      { id, name },
      {
        signal: context.signal,
        progress: (fraction, phase, message) => context.progress(fraction, phase, message),
        keep: (relativePath, bytes) => {
          const file = pathInside(staging, relativePath)
          mkdirSync(dirname(file), { recursive: true })
          writeFileSync(file, bytes)
        },
      },
    )
    const counts = { train: dataset.train.count, validation: dataset.validation?.count ?? 0, test: dataset.test.count }
    context.result({ id, name, format, sampleShape: dataset.sampleShape, classNames: dataset.classNames, counts })
    context.progress(1, 'checked', `${counts.train} train / ${counts.test} test samples, ${dataset.classNames.length} classes`)
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw error
  }
}

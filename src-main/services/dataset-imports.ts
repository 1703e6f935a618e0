// Finishing dataset imports in the parent. The import job leaves its checked copy in a staging folder inside the data
// folder and reports what it found; only when it is done is the folder renamed into place and the dataset
// registered, here. A failed, cancelled or interrupted import leaves neither a folder nor a row.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { BenchsideError, type JobSpec } from '../contract/index.ts'
import { importedDatasetPath } from '../engine/data/imported-layout.ts'
import { importStagingDir, stagingRun } from '../jobs/import-staging.ts'
import type { Store } from '../store/store.ts'
import { readResult } from './results.ts'

/** Where imported datasets are kept, one folder each. */
export function datasetsDir(store: Store): string {
  return join(store.dataDir, 'datasets')
}

function completeDatasetImport(store: Store, runUuid: string): void {
  const found = readResult(store, runUuid, 'dataset-import')
  if (!found) throw new BenchsideError({ code: 'INTERNAL', message: 'The import job ended without saying what it imported; nothing was kept.' })
  const staging = importStagingDir(datasetsDir(store), runUuid)
  const finalDir = join(datasetsDir(store), found.id)
  if (existsSync(finalDir) || store.datasets.get(found.id)) {
    throw new BenchsideError({ code: 'CONFLICT', message: `A dataset '${found.id}' exists already; nothing was replaced. Import it again.` })
  }
  renameSync(staging, finalDir)
  try {
    store.datasets.insert({
      id: found.id,
      name: found.name,
      format: found.format,
      path: importedDatasetPath(finalDir, found.format),
      sampleShape: found.sampleShape,
      classNames: found.classNames,
      counts: found.counts,
      createdAt: Date.now(),
    })
  } catch (error) {
    rmSync(finalDir, { recursive: true, force: true })
    throw error
  }
}

/** The job manager's hooks for import jobs. */
export function importHooks(store: Store): { completeJob(runUuid: string, spec: JobSpec): void; jobExited(runUuid: string, spec: JobSpec): void } {
  return {
    completeJob: (runUuid, spec) => {
      if (spec.kind === 'dataset-import') completeDatasetImport(store, runUuid)
    },
    // After a success the folder has been moved already; after anything else it is removed.
    jobExited: (runUuid, spec) => {
      if (spec.kind === 'dataset-import') rmSync(importStagingDir(datasetsDir(store), runUuid), { recursive: true, force: true })
    },
  }
}

/** At start-up: staging folders of imports that are no longer running (their host died mid-import) are removed. */
export function sweepStaleImports(store: Store): void {
  const dir = datasetsDir(store)
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) {
    const run = stagingRun(name)
    if (run === null) continue
    let status: string | null
    try {
      status = store.runs.summary(run).status
    } catch {
      status = null
    }
    if (status !== 'RUNNING' && status !== 'SCHEDULED') rmSync(join(dir, name), { recursive: true, force: true })
  }
}

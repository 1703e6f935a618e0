// Run history: the handlers behind the Runs view and 'benchside runs'.
import { readFileSync, statSync } from 'node:fs'
import { BenchsideError } from '../contract/index.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'

type HistoryMethod = 'listRuns' | 'getRun' | 'tagRun' | 'untagRun' | 'addNote' | 'deleteRun' | 'restoreRun' | 'exportRuns' | 'readArtifact'

/** readArtifact is for small JSON/text files the UI shows; larger ones are opened from the data folder. */
export const MAX_ARTIFACT_TEXT_BYTES = 5 * 1024 * 1024

function readArtifactText(file: string, path: string, run: string): string {
  const notFound = () =>
    new BenchsideError({ code: 'NOT_FOUND', field: 'path', message: `Run ${run.slice(0, 8)} has no artifact '${path}'; its detail lists the files it has.` })
  let size: number
  try {
    const stat = statSync(file)
    if (!stat.isFile()) throw notFound()
    size = stat.size
  } catch (error) {
    if (error instanceof BenchsideError) throw error
    throw notFound()
  }
  if (size > MAX_ARTIFACT_TEXT_BYTES) {
    throw new BenchsideError({
      code: 'INVALID_ARGS',
      field: 'path',
      message: `Artifact '${path}' is ${(size / 1024 / 1024).toFixed(1)} MB; only files under 5 MB can be read here. Open it from the run's folder instead.`,
    })
  }
  const bytes = readFileSync(file)
  const binary = () =>
    new BenchsideError({ code: 'INVALID_ARGS', field: 'path', message: `Artifact '${path}' is a binary file; only JSON and text artifacts can be read here.` })
  if (bytes.includes(0)) throw binary()
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw binary()
  }
}

export function historyHandlers(store: Store, changed: () => void): HandlersFor<HistoryMethod> {
  const runs = store.runs
  const changedRun = <T>(value: T): T => (changed(), value)
  return {
    listRuns: (filter) => runs.list(filter),
    getRun: ({ run, since }) => runs.detail(runs.resolve(run), since),
    tagRun: ({ run, tag }) => changedRun(runs.addTag(runs.resolve(run), tag)),
    untagRun: ({ run, tag }) => changedRun(runs.removeTag(runs.resolve(run), tag)),
    addNote: ({ run, text }) => {
      return changedRun(runs.addNote(runs.resolve(run), text))
    },
    deleteRun: ({ run }) => changedRun(runs.setDeleted(runs.resolve(run), true)),
    restoreRun: ({ run }) => changedRun(runs.setDeleted(runs.resolve(run), false)),
    exportRuns: ({ runs: ids }) => ({
      format: 'benchside-runs' as const,
      version: 1 as const,
      runs: ids.map((id) => runs.detail(runs.resolve(id))),
    }),
    readArtifact: ({ run, path }) => {
      const uuid = runs.resolve(run)
      return { text: readArtifactText(runs.artifactPath(uuid, path), path, uuid) }
    },
  }
}

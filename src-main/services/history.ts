// Run history: the handlers behind the Runs view and 'benchside runs'.
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'

type HistoryMethod = 'listRuns' | 'getRun' | 'tagRun' | 'untagRun' | 'addNote' | 'deleteRun' | 'restoreRun' | 'exportRuns'

export function historyHandlers(store: Store, runsChanged: (uuids: string[]) => void): HandlersFor<HistoryMethod> {
  const runs = store.runs
  const changed = <T extends { uuid: string }>(run: T): T => (runsChanged([run.uuid]), run)
  return {
    listRuns: (filter) => runs.list(filter),
    getRun: ({ run }) => runs.detail(runs.resolve(run)),
    tagRun: ({ run, tag }) => changed(runs.addTag(runs.resolve(run), tag)),
    untagRun: ({ run, tag }) => changed(runs.removeTag(runs.resolve(run), tag)),
    addNote: ({ run, text }) => {
      const uuid = runs.resolve(run)
      const note = runs.addNote(uuid, text)
      runsChanged([uuid])
      return note
    },
    deleteRun: ({ run }) => changed(runs.setDeleted(runs.resolve(run), true)),
    restoreRun: ({ run }) => changed(runs.setDeleted(runs.resolve(run), false)),
    exportRuns: ({ runs: ids }) => ({
      format: 'benchside-runs' as const,
      version: 1 as const,
      runs: ids.map((id) => runs.detail(runs.resolve(id))),
    }),
  }
}

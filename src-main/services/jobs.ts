// Jobs: the handlers that start, cancel, resume and list long work.
import type { JobManager } from '../jobs/manager.ts'
import { jobKinds } from '../jobs/kinds/index.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import { loadEngineForJob } from './lazy-engine.ts'

type JobMethod = 'startJob' | 'cancelJob' | 'resumeJob' | 'listJobs' | 'listJobKinds'

export function jobHandlers(store: Store, jobs: JobManager): HandlersFor<JobMethod> {
  return {
    startJob: async ({ name, experiment, ...spec }) => {
      await loadEngineForJob(spec.kind)
      return jobs.start(spec, { name, experiment })
    },
    cancelJob: ({ run }) => jobs.cancel(store.runs.resolve(run)),
    resumeJob: async ({ run }) => {
      await loadEngineForJob(null)
      return jobs.resume(store.runs.resolve(run))
    },
    listJobs: () => jobs.list(),
    listJobKinds: () => Object.entries(jobKinds).map(([kind, entry]) => ({ kind, summary: entry.summary })),
  }
}

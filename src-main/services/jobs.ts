// Jobs: the handlers that start, cancel, resume and list long work. Jobs of every process sharing the data folder are
// listed and can be cancelled: another process's job through a cancel request it acts on (change-feed.ts).
import { hostname } from 'node:os'
import { defaultRunName, type JobProgress, type RunSummary } from '../contract/index.ts'
import type { JobManager } from '../jobs/manager.ts'
import { jobKinds } from '../jobs/kinds/index.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import { loadEngineForJob } from './lazy-engine.ts'
import type { ClusterService } from './clusters.ts'

type JobMethod = 'startJob' | 'cancelJob' | 'resumeJob' | 'listJobs' | 'listJobKinds'

/** How long cancelJob waits for another process to stop its job before answering with the run as it stands. */
const REMOTE_CANCEL_WAIT_MS = 5000

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A process on this computer that is gone cannot act on a request; on another computer we cannot tell, so we ask. */
const ownerGone = (owner: { pid: number; host: string }) => owner.host === hostname() && !processAlive(owner.pid)

/** A model's run name for a default run name, or null for an id that names no run (the job's start says so). */
function modelName(store: Store, id: string): string | null {
  try {
    return store.runs.summary(store.runs.resolve(id)).name
  } catch {
    return null
  }
}

export function jobHandlers(store: Store, jobs: JobManager, clusters: ClusterService): HandlersFor<JobMethod> {
  const isLocal = (uuid: string) => jobs.list().some((job) => job.runUuid === uuid)

  async function cancelElsewhere(uuid: string): Promise<RunSummary> {
    const run = store.runs.summary(uuid)
    const owner = store.runs.owner(uuid)
    // Not active (or not a job at all): the manager says so in its own words.
    if ((run.status !== 'RUNNING' && run.status !== 'SCHEDULED') || !owner) return jobs.cancel(uuid)
    if (ownerGone(owner)) {
      // A cluster job's array outlives its host: take the run over here, so cancelling it also scancels the array.
      if (store.clusters.placementOf(uuid)) {
        for (const adopted of clusters.adoptOrphans(processAlive)) jobs.reattach(adopted)
        if (isLocal(uuid)) return jobs.cancel(uuid)
      }
      return store.runs.finish(uuid, 'KILLED', 'Cancelled; the process that ran this job had already stopped.')
    }
    store.runs.requestCancel(uuid)
    const until = Date.now() + REMOTE_CANCEL_WAIT_MS
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const now = store.runs.summary(uuid)
      if (now.status !== 'RUNNING' && now.status !== 'SCHEDULED') return now
    }
    return store.runs.summary(uuid)
  }

  return {
    startJob: async ({ name, experiment, executor, ...spec }) => {
      await loadEngineForJob(spec.kind)
      // A cluster that cannot take the job says so now, before a run exists.
      if (executor) await clusters.preflight(executor, spec)
      // Runs started without a name (UI, CLI, scripts) are named after the model and the settings that differ.
      return jobs.start(spec, { name: name ?? defaultRunName(spec, (id) => modelName(store, id)), experiment }, executor)
    },
    cancelJob: ({ run }) => {
      const uuid = store.runs.resolve(run)
      return isLocal(uuid) ? jobs.cancel(uuid) : cancelElsewhere(uuid)
    },
    resumeJob: async ({ run }) => {
      await loadEngineForJob(null)
      return jobs.resume(store.runs.resolve(run))
    },
    listJobs: () => {
      const local = jobs.list()
      const here = new Set(local.map((job) => job.runUuid))
      const elsewhere: JobProgress[] = store.runs
        .activeJobs()
        .filter((job) => !here.has(job.progress.runUuid) && !ownerGone(job.owner))
        .map((job) => job.progress)
      return [...local, ...elsewhere]
    },
    listJobKinds: () => Object.entries(jobKinds).map(([kind, entry]) => ({ kind, summary: entry.summary })),
  }
}

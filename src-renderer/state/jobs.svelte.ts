// Live jobs for the tray: kept up to date by jobProgress events; ended jobs linger a moment so the user sees how they ended.
import type { JobProgress } from '../../src-main/contract/index.ts'
import { api, errorText } from '../lib/api.svelte.ts'

const LINGER_MS = 8000

class JobsState {
  byRun = $state<Record<string, JobProgress>>({})
  error = $state<string | null>(null)
  list = $derived(Object.values(this.byRun).sort((a, b) => (a.startedAt ?? Infinity) - (b.startedAt ?? Infinity)))
  active = $derived(this.list.filter((j) => j.state === 'queued' || j.state === 'running').length)

  update(progress: JobProgress): void {
    this.byRun[progress.runUuid] = progress
    if (progress.state !== 'queued' && progress.state !== 'running') {
      setTimeout(() => {
        if (this.byRun[progress.runUuid]?.state === progress.state) delete this.byRun[progress.runUuid]
      }, LINGER_MS)
    }
  }

  /** Every live job of every process on this data folder; a job shown as live that is no longer listed has ended meanwhile. */
  async load(): Promise<void> {
    try {
      const live = await api.listJobs({})
      const listed = new Set(live.map((job) => job.runUuid))
      for (const job of Object.values(this.byRun)) {
        if ((job.state === 'queued' || job.state === 'running') && !listed.has(job.runUuid)) delete this.byRun[job.runUuid]
      }
      for (const job of live) this.update(job)
      this.error = null
    } catch (error) {
      this.error = errorText(error)
    }
  }

  async startSelftest(seconds: number): Promise<void> {
    try {
      await api.startJob({ kind: 'selftest', params: { seconds } })
      this.error = null
    } catch (error) {
      this.error = errorText(error)
    }
  }

  async cancel(runUuid: string): Promise<void> {
    try {
      await api.cancelJob({ run: runUuid })
    } catch (error) {
      this.error = errorText(error)
    }
  }
}

export const jobs = new JobsState()
api.on('jobProgress', (progress) => jobs.update(progress))

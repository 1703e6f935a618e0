// A job started from one of a room's forms, followed through the change feed (the room passes each run change to
// `changed`) until it ends.
import type { RunStatus, RunSummary } from '../../src-main/contract/index.ts'
import { errorText } from './api.svelte.ts'

export class StartedJob {
  uuid = $state<string | null>(null)
  status = $state<RunStatus | null>(null)
  /** Why it could not start. */
  error = $state<string | null>(null)
  /** Why the run failed, once it has. */
  failure = $state<string | null>(null)
  starting = $state(false)
  private readonly finished: (uuid: string) => void

  constructor(finished: (uuid: string) => void = () => {}) {
    this.finished = finished
  }

  /** Starts the job; answers its run, or null when it did not start (`error` then says why). */
  async start(begin: () => Promise<RunSummary>): Promise<string | null> {
    this.starting = true
    try {
      const run = await begin()
      this.uuid = run.uuid
      this.status = run.status
      this.error = null
      this.failure = null
      return run.uuid
    } catch (error) {
      this.error = errorText(error)
      return null
    } finally {
      this.starting = false
    }
  }

  changed(run: RunSummary): void {
    if (run.uuid !== this.uuid || run.status === this.status) return
    this.status = run.status
    this.failure = run.error
    if (run.status === 'FINISHED') this.finished(run.uuid)
  }

  forget(): void {
    this.uuid = null
    this.status = null
    this.error = null
    this.failure = null
  }
}

// One import started from a form (a dataset or a model): its live progress from jobProgress, its end from the change
// feed (which also reports an end this page missed while the link was down), then its result or the sentence saying
// why it failed.
import { resultOfKind, type JobProgress, type JobResult, type RunSummary } from '../../src-main/contract/index.ts'
import { api, errorText } from '../lib/api.svelte.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'

type ImportKind = 'dataset-import' | 'model-import'
const ENDED = ['FINISHED', 'FAILED', 'KILLED', 'INTERRUPTED']

export class ImportJob<K extends ImportKind> {
  /** The import's run while it is queued or running. */
  run = $state<string | null>(null)
  progress = $state<JobProgress | null>(null)
  /** Why the last import did not start or did not finish. */
  error = $state<string | null>(null)
  /** What the last finished import reported. */
  result = $state<JobResult<K> | null>(null)

  constructor(
    private readonly kind: K,
    /** Refreshes the lists once the import is in them. */
    private readonly finished: (result: JobResult<K>, run: string) => Promise<void>,
  ) {
    api.on('jobProgress', (progress) => {
      if (progress.runUuid === this.run) this.progress = progress
    })
    onRunChanged(({ run }) => {
      if (run.uuid === this.run && ENDED.includes(run.status)) void this.end(run)
    })
  }

  async start(call: () => Promise<RunSummary>): Promise<boolean> {
    this.error = null
    this.result = null
    this.progress = null
    try {
      this.run = (await call()).uuid
      return true
    } catch (error) {
      this.error = errorText(error)
      return false
    }
  }

  async cancel(): Promise<void> {
    if (!this.run) return
    try {
      await api.cancelJob({ run: this.run })
    } catch (error) {
      this.error = errorText(error)
    }
  }

  private async end(run: RunSummary): Promise<void> {
    this.run = null
    this.progress = null
    if (run.status !== 'FINISHED') {
      this.error = run.status === 'KILLED' ? 'The import was cancelled; nothing was kept.' : `The import failed: ${run.error ?? 'see its run in Runs.'}`
      return
    }
    try {
      const answer = await api.getRunResult({ run: run.uuid })
      const result = resultOfKind(answer, this.kind)
      if (result === null) throw new Error(`Run ${run.uuid.slice(0, 8)} reported no ${this.kind} result.`)
      this.result = result
      await this.finished(this.result, run.uuid)
    } catch (error) {
      this.error = errorText(error)
    }
  }
}

// A core over a fresh data folder that records the job processes it starts and how each job ended.
import type { JobProgress } from '../../src-main/contract/index.ts'
import { createCore, type Core, type CoreOptions } from '../../src-main/core.ts'
import { nodeJobLauncher } from '../../src-main/jobs/node-launcher.ts'
import type { JobProcess } from '../../src-main/jobs/protocol.ts'
import { tempHome, waitFor } from './temp-home.ts'

export interface JobHarness {
  core: Core
  dataDir: string
  /** Every job process started, in order (kill -9 one to test crash handling). */
  launched: JobProcess[]
  /** The final progress of each ended job; delete an entry before resuming that run. */
  ended: Map<string, JobProgress>
  finish(runUuid: string, timeoutMs?: number): Promise<JobProgress>
  close(): void
}

export function jobHarness(options: Pick<CoreOptions, 'busyTimeoutMs' | 'concurrency'> = {}): JobHarness {
  const home = tempHome()
  const launched: JobProcess[] = []
  const ended = new Map<string, JobProgress>()
  const core = createCore({
    ...options,
    dataDir: home.dir,
    host: 'cli',
    launch: () => {
      const process = nodeJobLauncher()
      launched.push(process)
      return process
    },
  })
  core.events.on(({ event, payload }) => {
    const progress = payload as JobProgress
    if (event === 'jobProgress' && ['finished', 'failed', 'killed'].includes(progress.state)) ended.set(progress.runUuid, progress)
  })
  return {
    core,
    dataDir: home.dir,
    launched,
    ended,
    finish: (runUuid, timeoutMs = 180_000) => waitFor(() => ended.get(runUuid), timeoutMs, `the end of job ${runUuid}`),
    close() {
      core.close()
      home.remove()
    },
  }
}

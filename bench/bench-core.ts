// What the demo benches share: a core over a fresh data folder, and running a job to its end as the UI and CLI do.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { z } from 'zod'
import type { StartJobArgs } from '../src-main/contract/index.ts'
import { createCore, type Core } from '../src-main/core.ts'
import { nodeJobLauncher } from '../src-main/jobs/node-launcher.ts'

export interface BenchCore {
  core: Core
  /** Starts a job and resolves with its run id when it has finished; rejects when it did not. */
  run(spec: z.input<typeof StartJobArgs>): Promise<string>
  /** Resolves with the run id when a run started elsewhere (e.g. a model import) has finished; rejects when it did not. */
  finished(uuid: string): Promise<string>
  /** A finished run's result, read back through its kind's schema. */
  resultOf<S extends z.ZodType>(schema: S, uuid: string): Promise<z.output<S>>
  /** Closes the core and removes the data folder (unless it was given). */
  close(): void
}

export function benchCore(name: string, options: { home?: string; concurrency?: number } = {}): BenchCore {
  const home = options.home ?? mkdtempSync(join(tmpdir(), `benchside-${name}-`))
  const core = createCore({ dataDir: home, host: 'cli', launch: nodeJobLauncher, concurrency: options.concurrency })
  const finished = (uuid: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const settle = (state: string): void => {
        if (state === 'finished') resolve(uuid)
        else reject(new Error(`${core.store.runs.summary(uuid).kind} ${state}: ${core.store.runs.summary(uuid).error}`))
      }
      const stop = core.events.on(({ event, payload }) => {
        const p = payload as { runUuid: string; state: string }
        if (event !== 'jobProgress' || p.runUuid !== uuid || !['finished', 'failed', 'killed'].includes(p.state)) return
        stop()
        settle(p.state)
      })
      // It may have ended before we listened.
      const now = core.store.runs.summary(uuid).status.toLowerCase()
      if (['finished', 'failed', 'killed'].includes(now)) {
        stop()
        settle(now)
      }
    })
  return {
    core,
    finished,
    run: async (spec) => finished((await core.api.startJob(spec)).uuid),
    resultOf: async (schema, uuid) => schema.parse((await core.api.getRunResult({ run: uuid })).result),
    close() {
      core.close()
      if (!options.home) rmSync(home, { recursive: true, force: true })
    },
  }
}

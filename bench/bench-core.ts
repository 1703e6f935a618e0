// What the demo benches share: a core over a fresh data folder, and running a job to its end as the UI and CLI do.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { z } from 'zod'
import type { JobSpec, StartJobArgs } from '../src-main/contract/index.ts'
import { createCore, type Core } from '../src-main/core.ts'
import { nodeJobLauncher } from '../src-main/jobs/node-launcher.ts'

export interface BenchCore {
  core: Core
  /** Starts a job and resolves with its run id when it has finished; rejects when it did not. */
  run(spec: z.input<typeof StartJobArgs>): Promise<string>
  /** A finished run's result, read back through its kind's schema. */
  resultOf<S extends z.ZodType>(schema: S, uuid: string): Promise<z.output<S>>
  /** Closes the core and removes the data folder (unless it was given). */
  close(): void
}

export function benchCore(name: string, options: { home?: string; concurrency?: number } = {}): BenchCore {
  const home = options.home ?? mkdtempSync(join(tmpdir(), `benchside-${name}-`))
  const core = createCore({ dataDir: home, host: 'cli', launch: nodeJobLauncher, concurrency: options.concurrency })
  return {
    core,
    run: (spec) =>
      new Promise((resolve, reject) => {
        void core.api.startJob(spec).then((summary) => {
          const stop = core.events.on(({ event, payload }) => {
            const p = payload as { runUuid: string; state: string }
            if (event !== 'jobProgress' || p.runUuid !== summary.uuid || !['finished', 'failed', 'killed'].includes(p.state)) return
            stop()
            if (p.state === 'finished') resolve(summary.uuid)
            else reject(new Error(`${(spec as JobSpec).kind} ${p.state}: ${core.store.runs.summary(summary.uuid).error}`))
          })
        }, reject)
      }),
    resultOf: async (schema, uuid) => schema.parse((await core.api.getRunResult({ run: uuid })).result),
    close() {
      core.close()
      if (!options.home) rmSync(home, { recursive: true, force: true })
    },
  }
}

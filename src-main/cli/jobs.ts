// benchside jobs kinds|run|resume — and the foreground runner every job command of later rooms reuses.
import type { Command } from 'commander'
import {
  BenchsideError,
  resultOfKind,
  StartJobArgs,
  type BenchsideApi,
  type JobKind,
  type JobProgress,
  type JobResult,
  type RunSummary,
} from '../contract/index.ts'
import { checked, type OpenApi } from './api.ts'
import { executorOf, withExecutor } from './clusters.ts'
import { formatDuration, printJson, printTable } from './output.ts'
import { ProgressLine } from './progress.ts'

const FINAL_STATES: ReadonlySet<JobProgress['state']> = new Set(['finished', 'failed', 'killed'])

/** Follows a started (or resumed) job to its end with a progress line; Ctrl-C cancels it. Resolves with the final run. */
export async function followJob(api: BenchsideApi, run: RunSummary, quiet: boolean): Promise<RunSummary> {
  const line = quiet ? null : new ProgressLine()
  const cancel = () => {
    process.stderr.write('\nCancelling…\n')
    void api.cancelJob({ run: run.uuid })
  }
  process.once('SIGINT', cancel)
  const final = await new Promise<JobProgress>((resolve) => {
    const stop = api.on('jobProgress', (progress) => {
      if (progress.runUuid !== run.uuid) return
      line?.update(progress)
      if (FINAL_STATES.has(progress.state)) {
        stop()
        resolve(progress)
      }
    })
  })
  process.off('SIGINT', cancel)
  line?.done()
  await waitForJobExit(api, run.uuid)
  const summary = await api.getRun({ run: run.uuid })
  if (!quiet && final.state !== 'finished') process.stderr.write(`Run ${run.uuid.slice(0, 8)} ${summary.status}${summary.error ? ': ' + summary.error : ''}\n`)
  return summary
}

/** The result a finished job reported, typed by its kind. */
export async function jobResult<K extends JobKind>(api: BenchsideApi, run: string, kind: K): Promise<JobResult<K>> {
  const result = resultOfKind(await api.getRunResult({ run }), kind)
  if (result === null) {
    throw new BenchsideError({
      code: 'NOT_FOUND',
      message: `Run ${run.slice(0, 8)} reported no ${kind} result; 'benchside runs show ${run.slice(0, 8)}' says what happened.`,
    })
  }
  return result
}

/** The final progress comes before the process has exited; closing the core earlier would kill it mid-exit. */
async function waitForJobExit(api: BenchsideApi, runUuid: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (!(await api.listJobs({})).some((job) => job.runUuid === runUuid)) return
    await new Promise((r) => setTimeout(r, 20))
  }
}

function parseParams(pairs: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at < 1) throw new BenchsideError({ code: 'INVALID_ARGS', field: 'param', message: `Write params as key=value, not '${pair}'.` })
    const raw = pair.slice(at + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      // not JSON: keep the text as it is
    }
    params[pair.slice(0, at)] = value
  }
  return params
}

/** Collects a repeatable option; commander passes undefined the first time, so no empty list is declared as a default. */
export const repeatable = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

export function registerJobCommands(program: Command, openApi: OpenApi): void {
  const jobs = program.command('jobs').description('start, follow and resume long work')

  jobs
    .command('kinds')
    .description('the kinds of job there are')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const kinds = await (await openApi()).listJobKinds({})
      if (o.json) return printJson(kinds)
      printTable(
        ['KIND', 'WHAT IT DOES'],
        kinds.map((k) => [k.kind, k.summary]),
      )
    })

  withExecutor(jobs.command('run <kind>'))
    .description('run a job in the foreground with a progress bar; Ctrl-C cancels it')
    .option('-p, --param <key=value>', 'a job parameter (repeatable), e.g. -p seconds=3', repeatable)
    .option('--name <name>', 'a name for the run')
    .option('--experiment <name>', 'the experiment the run belongs to')
    .option('--json', 'print the finished run as JSON')
    .action(async (kind: string, o) => {
      const spec = checked(StartJobArgs, { kind, params: parseParams(o.param ?? []), name: o.name, experiment: o.experiment, executor: executorOf(o) })
      const api = await openApi()
      const run = await api.startJob(spec)
      if (!o.json) process.stderr.write(`Run ${run.uuid} started (${kind}).\n`)
      await finish(await followJob(api, run, Boolean(o.json)), Boolean(o.json))
    })

  jobs
    .command('resume <run>')
    .description('continue an INTERRUPTED, FAILED or KILLED run where it stopped')
    .option('--json', 'print the finished run as JSON')
    .action(async (id: string, o) => {
      const api = await openApi()
      const run = await api.resumeJob({ run: id })
      await finish(await followJob(api, run, Boolean(o.json)), Boolean(o.json))
    })
}

async function finish(run: RunSummary, json: boolean): Promise<void> {
  if (json) printJson(run)
  else if (run.status === 'FINISHED') {
    const seconds = run.endTime && run.startTime ? (run.endTime - run.startTime) / 1000 : null
    console.log(`Run ${run.uuid.slice(0, 8)} FINISHED in ${formatDuration(seconds)}. See it with: benchside runs show ${run.uuid.slice(0, 8)}`)
  }
  process.exitCode = run.status === 'FINISHED' ? 0 : run.status === 'KILLED' ? 130 : 1
}

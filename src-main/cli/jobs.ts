// benchside jobs kinds|run|resume — and the foreground runner every job command of later rooms reuses.
import type { Command } from 'commander'
import { BenchsideError, type JobProgress, type RunSummary } from '../contract/index.ts'
import type { Core } from '../core.ts'
import { formatDuration, printJson, printTable } from './output.ts'
import { ProgressLine } from './progress.ts'

type OpenCore = () => Core

/** Follows a started (or resumed) job to its end with a progress line; Ctrl-C cancels it. Resolves with the final run. */
export async function followJob(core: Core, run: RunSummary, quiet: boolean): Promise<RunSummary> {
  const line = quiet ? null : new ProgressLine()
  const final = await new Promise<JobProgress>((resolve) => {
    const stop = core.events.on((event, payload) => {
      if (event !== 'jobProgress') return
      const progress = payload as JobProgress
      if (progress.runUuid !== run.uuid) return
      line?.update(progress)
      if (['finished', 'failed', 'killed'].includes(progress.state)) {
        stop()
        resolve(progress)
      }
    })
    process.once('SIGINT', () => {
      process.stderr.write('\nCancelling…\n')
      void core.api.cancelJob({ run: run.uuid })
    })
  })
  line?.done()
  await waitForJobExit(core, run.uuid)
  const summary = await core.api.getRun({ run: run.uuid })
  if (!quiet && final.state !== 'finished') process.stderr.write(`Run ${run.uuid.slice(0, 8)} ${summary.status}${summary.error ? ': ' + summary.error : ''}\n`)
  return summary
}

async function waitForJobExit(core: Core, runUuid: string): Promise<void> {
  for (let i = 0; i < 100 && core.jobs.list().some((j) => j.runUuid === runUuid); i++) {
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

export function registerJobCommands(program: Command, openCore: OpenCore): void {
  const jobs = program.command('jobs').description('start, follow and resume long work')

  jobs
    .command('kinds')
    .description('the kinds of job there are')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const kinds = await openCore().api.listJobKinds({})
      if (o.json) return printJson(kinds)
      printTable(['KIND', 'WHAT IT DOES'], kinds.map((k) => [k.kind, k.summary]))
    })

  jobs
    .command('run <kind>')
    .description('run a job in the foreground with a progress bar; Ctrl-C cancels it')
    .option('-p, --param <key=value>', 'a job parameter (repeatable), e.g. -p seconds=3', (v: string, all: string[]) => [...all, v], [])
    .option('--name <name>', 'a name for the run')
    .option('--experiment <name>', 'the experiment the run belongs to', 'Default')
    .option('--json', 'print the finished run as JSON')
    .action(async (kind: string, o) => {
      const core = openCore()
      const run = await core.api.startJob({ kind, params: parseParams(o.param), name: o.name, experiment: o.experiment } as never)
      if (!o.json) process.stderr.write(`Run ${run.uuid} started (${kind}).\n`)
      await finish(await followJob(core, run, Boolean(o.json)), Boolean(o.json))
    })

  jobs
    .command('resume <run>')
    .description('continue an INTERRUPTED, FAILED or KILLED run where it stopped')
    .option('--json', 'print the finished run as JSON')
    .action(async (id: string, o) => {
      const core = openCore()
      const run = await core.api.resumeJob({ run: id })
      await finish(await followJob(core, run, Boolean(o.json)), Boolean(o.json))
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

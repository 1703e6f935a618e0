// `benchside worker <task.json>` on a cluster node: runs one task in a job process, exactly as a local job runs, and
// appends every message it reports to the task's result file as a JSON line for the host to follow. It never opens a
// database: the host writes what it reads into the store on the user's machine.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { z } from 'zod'
import { JobSpec } from '../../contract/index.ts'
import { isBoardRequest } from '../board-rpc.ts'
import { isLatencyRequest } from '../latency-rpc.ts'
import type { FromJob, JobLauncher } from '../protocol.ts'
import { Cell, encodeLine } from './task-lines.ts'

/** What the host writes for each task: the job start message of a local job, plus where results go. */
export const TaskFile = z.object({
  runUuid: z.string(),
  spec: JobSpec,
  share: z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).nullable(),
  inputs: z.unknown(),
  resume: z.object({ lastSteps: z.record(z.string(), z.number()), sweepCells: z.array(Cell) }).nullable(),
  artifactDir: z.string(),
  /** The JSON-lines result file of this attempt. */
  out: z.string(),
})
export type TaskFile = z.infer<typeof TaskFile>

/** What `benchside worker --probe` prints: the cluster test reads it back from the node. */
export function probe(version: string): string {
  return JSON.stringify({ benchside: version, node: process.version, host: hostname() })
}

/** Runs the task; resolves with the process exit code (0 when the job reported done). */
export function runTask(taskPath: string, launch: JobLauncher): Promise<number> {
  const task = TaskFile.parse(JSON.parse(readFileSync(taskPath, 'utf8')))
  mkdirSync(dirname(task.out), { recursive: true })
  const write = (message: FromJob) => appendFileSync(task.out, encodeLine(message) + '\n')
  const child = launch()
  let done = false
  // SLURM sends SIGTERM on scancel and at the time limit, SIGKILL a while later: the job process gets the same chance.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill('SIGTERM'))
  return new Promise((resolve) => {
    child.onMessage((message) => {
      if (isBoardRequest(message) || isLatencyRequest(message)) {
        write({ type: 'error', message: `A ${task.spec.kind} task asked for a board, which only the Benchside host can reach; it cannot run on a cluster.` })
        child.kill('SIGKILL')
        return
      }
      if (message.type === 'done') done = true
      // The task's stderr file is what SLURM keeps and what the host quotes when a task fails.
      if (message.type === 'error') process.stderr.write(`benchside worker: ${message.message}\n`)
      write(message)
    })
    child.onExit((code, signal) => {
      if (!done && code === 0) write({ type: 'error', message: 'The job process exited without finishing.' })
      resolve(done ? 0 : signal ? 143 : (code ?? 1) || 1)
    })
    child.send({
      type: 'start',
      runUuid: task.runUuid,
      spec: task.spec,
      artifactDir: task.artifactDir,
      resume: task.resume,
      inputs: task.inputs,
      share: task.share,
    })
  })
}

// The SLURM commands Benchside uses, over a ClusterShell: sbatch a job array, read task states with
// `scontrol show job -o` (stable across SLURM versions, unlike squeue --json's schema), scancel. Parsers are pure.
import { BenchsideError, type ClusterProfile } from '../../contract/index.ts'
import type { ClusterShell } from './shell.ts'

/** SLURM's job states, folded into what Benchside does with a task. */
export type TaskPhase = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

export interface TaskState {
  jobId: string
  /** The array index, or null for a job that is not an array. */
  index: number | null
  state: string
  phase: TaskPhase
  reason: string
  node: string
}

const PHASES: Record<string, TaskPhase> = {
  PENDING: 'pending',
  CONFIGURING: 'pending',
  REQUEUED: 'pending',
  REQUEUE_HOLD: 'pending',
  REQUEUE_FED: 'pending',
  RESV_DEL_HOLD: 'pending',
  SUSPENDED: 'pending',
  STOPPED: 'pending',
  RUNNING: 'running',
  COMPLETING: 'running',
  RESIZING: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
}

export function phaseOf(state: string): TaskPhase {
  return PHASES[state] ?? 'failed'
}

function field(line: string, key: string): string | null {
  const match = new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)
  return match ? match[1]! : null
}

/** "0-3%2", "1,4-5" → [0,1,2,3] / [1,4,5]. */
export function expandIndices(text: string): number[] {
  const out: number[] = []
  for (const part of text.split('%')[0]!.split(',')) {
    const [from, to] = part.split('-').map(Number)
    if (from === undefined || !Number.isInteger(from)) continue
    for (let i = from; i <= (to !== undefined && Number.isInteger(to) ? to : from); i++) out.push(i)
  }
  return out
}

/** [0,1,2,5] → "0-2,5", as --array takes it. */
export function compactIndices(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length;) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** Parses `scontrol show job -o` output: one line per job or array task (pending array tasks share one line). */
export function parseJobLines(output: string): TaskState[] {
  const states: TaskState[] = []
  for (const line of output.split('\n')) {
    const jobId = field(line, 'JobId')
    const state = field(line, 'JobState')
    if (!jobId || !state) continue
    const arrayJobId = field(line, 'ArrayJobId')
    const arrayTasks = field(line, 'ArrayTaskId')
    const reason = field(line, 'Reason') ?? 'None'
    const node = field(line, 'BatchHost') ?? field(line, 'NodeList') ?? ''
    const base = { state, phase: phaseOf(state), reason: reason === 'None' ? '' : reason, node: node === '(null)' ? '' : node }
    if (arrayJobId && arrayTasks) for (const index of expandIndices(arrayTasks)) states.push({ jobId: arrayJobId, index, ...base })
    else states.push({ jobId, index: null, ...base })
  }
  return states
}

/** The task states of the given jobs; a job SLURM no longer knows (finished long ago) is absent. */
export async function queryJobs(shell: ClusterShell, jobIds: string[]): Promise<TaskState[]> {
  const states: TaskState[] = []
  for (const id of new Set(jobIds)) {
    const result = await shell.run(['scontrol', 'show', 'job', '-o', id], 30_000)
    if (result.code === 0) states.push(...parseJobLines(result.stdout))
    else if (!/Invalid job id/i.test(result.stderr)) {
      throw new BenchsideError({ code: 'UNAVAILABLE', message: `scontrol on ${shell.label} failed: ${oneLine(result.stderr) || `exit code ${result.code}`}` })
    }
  }
  return states
}

export interface ArraySubmission {
  /** The batch script on the cluster. */
  script: string
  indices: number[]
  name: string
  /** Task output (%a = array index) goes here. */
  runDir: string
  /** Each attempt gets its own stdout/stderr files. */
  attempt: number
}

/** sbatch's arguments for a profile, one word each (never through a shell on this machine). */
export function sbatchArgs(profile: ClusterProfile, submission: ArraySubmission): string[] {
  const args = [
    'sbatch',
    '--parsable',
    `--job-name=${submission.name}`,
    `--array=${compactIndices(submission.indices)}%${profile.maxParallel}`,
    `--output=${submission.runDir}/task-%a.attempt-${submission.attempt}.out`,
    `--error=${submission.runDir}/task-%a.attempt-${submission.attempt}.err`,
    `--chdir=${submission.runDir}`,
    ...placementArgs(profile, profile.cpusPerTask),
    submission.script,
  ]
  return args
}

/** Where and with what a job of this profile runs: CPUs, time limit, partition, account, memory. */
export function placementArgs(profile: ClusterProfile, cpus: number): string[] {
  const args = [`--cpus-per-task=${cpus}`, `--time=${profile.timeLimit}`]
  if (profile.partition) args.push(`--partition=${profile.partition}`)
  if (profile.account) args.push(`--account=${profile.account}`)
  if (profile.memoryMb) args.push(`--mem=${profile.memoryMb}M`)
  return args
}

/** Submits a job array; returns its job id. */
export async function submitArray(shell: ClusterShell, profile: ClusterProfile, submission: ArraySubmission): Promise<string> {
  const result = await shell.run(sbatchArgs(profile, submission), 60_000)
  const id = result.stdout.trim().split(';')[0]
  if (result.code !== 0 || !id || !/^\d+$/.test(id)) throw sbatchError(profile, shell, result.stderr || result.stdout)
  return id
}

/** sbatch's own words, led by what they mean for the profile. */
export function sbatchError(profile: ClusterProfile, shell: ClusterShell, output: string): BenchsideError {
  const said = oneLine(output.replace(/sbatch: error: /g, ''))
  if (/invalid partition/i.test(said)) {
    return new BenchsideError({
      code: 'INVALID_ARGS',
      message: `The partition '${profile.partition ?? '(default)'}' does not exist on cluster ${profile.name}: ${said}. Fix the profile's partition (sinfo lists them).`,
    })
  }
  if (/invalid account/i.test(said)) {
    return new BenchsideError({ code: 'INVALID_ARGS', message: `The account '${profile.account}' is not valid on cluster ${profile.name}: ${said}.` })
  }
  if (/command not found|No such file/i.test(said) && /sbatch/.test(said)) {
    return new BenchsideError({
      code: 'UNAVAILABLE',
      message: `sbatch is not installed on ${shell.label}; install the SLURM client tools there (Debian: slurm-client).`,
    })
  }
  return new BenchsideError({ code: 'UNAVAILABLE', message: `sbatch on ${shell.label} refused the job: ${said || 'no reason given'}.` })
}

export async function cancelJobs(shell: ClusterShell, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return
  const result = await shell.run(['scancel', ...new Set(jobIds)], 30_000)
  if (result.code !== 0 && !/Invalid job id/i.test(result.stderr)) {
    throw new BenchsideError({ code: 'UNAVAILABLE', message: `scancel on ${shell.label} failed: ${oneLine(result.stderr)}` })
  }
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

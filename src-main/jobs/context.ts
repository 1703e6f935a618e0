// What a job function gets: its params, a cancel signal, and ways to report progress and results.
import type { JobKind, JobParams, JobResult } from '../contract/index.ts'
import type { BoardAccess } from './board-access.ts'
import type { BoardSessions } from './board-client.ts'
import type { LatencyTable } from '../store/latency-table.ts'
import { pathInside, writeFileAtomic } from '../store/files.ts'
import type { SweepCell } from '../store/sweeps.ts'
import type { JobInputs } from './inputs.ts'
import type { LatencyClient } from './latency-rpc.ts'
import type { FromJob, ResumeState, StartJob } from './protocol.ts'
import type { TaskShare } from './cluster/task-plan.ts'

export interface JobContext<K extends JobKind = JobKind> {
  readonly runUuid: string
  readonly params: JobParams<K>
  /** Aborted when the job is cancelled; long loops check it. */
  readonly signal: AbortSignal
  /** Set when this run was interrupted before and is being resumed. */
  readonly resume: ResumeState | null
  /** Datasets and model files the parent resolved for this job. */
  readonly inputs: JobInputs<K>
  /** The run's artifact folder, where checkpoints are read back on resume. */
  readonly artifactDir: string
  /** On a cluster, the part of a fanned-out job this task does; null when the job runs whole. */
  readonly share: TaskShare | null
  progress(fraction: number, phase?: string, message?: string): void
  metric(key: string, value: number, step: number): void
  /** Sweep cells, stored as they are measured. */
  cells(cells: SweepCell[]): void
  param(key: string, value: string | number | boolean): void
  /** Writes a file into the run's artifact folder (atomically) and records it: models, checkpoints. */
  artifact(path: string, data: Uint8Array | string): void
  /** Reports what the job measured, as its kind's result schema says; call again to replace it as work goes on. */
  result(value: JobResult<K>): void
  /** Analog boards, reached through the main process where their connections live (board-client.ts). */
  readonly boards: BoardSessions
  /** Network latency on agent boards, measured (or read from the latency table) by the main process. */
  readonly latency: LatencyClient
}

/** What jobs that run inside the main process (board measurements: I/O, not compute) may use; null in a job process. */
export interface InlineServices {
  boards: BoardAccess
  latency: LatencyTable
}

export type JobFunction<K extends JobKind = JobKind> = (context: JobContext<K>, services: InlineServices | null) => Promise<void>

/** The context a job function sees, reporting through `send` — a process channel, or a direct call for inline jobs. */
export function createJobContext(
  start: StartJob,
  send: (message: FromJob) => void,
  signal: AbortSignal,
  boards: BoardSessions,
  latency: LatencyClient,
): JobContext {
  return {
    boards,
    latency,
    runUuid: start.runUuid,
    params: start.spec.params,
    signal,
    resume: start.resume,
    inputs: start.inputs as JobContext['inputs'],
    artifactDir: start.artifactDir,
    share: start.share ?? null,
    progress: (fraction, phase = '', message = '') => send({ type: 'progress', fraction: Math.min(1, Math.max(0, fraction)), phase, message }),
    metric: (key, value, step) => send({ type: 'metrics', points: [{ key, value, step, time: Date.now() }] }),
    cells: (cells) => send({ type: 'cells', cells }),
    param: (key, value) => send({ type: 'param', key, value: String(value) }),
    artifact: (path, data) => {
      const written = writeFileAtomic(pathInside(start.artifactDir, path), data)
      send({ type: 'artifact', path, ...written })
    },
    result: (value) => send({ type: 'result', value }),
  }
}

/** Resolves after ms, or rejects with an AbortError as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

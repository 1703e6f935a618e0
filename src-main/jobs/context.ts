// What a job function gets: its params, a cancel signal, and ways to report progress and results.
import type { JobKind, JobParams } from '../contract/index.ts'
import type { JobInputs } from './inputs.ts'
import type { ResumeState } from './protocol.ts'

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
  progress(fraction: number, phase?: string, message?: string): void
  metric(key: string, value: number, step: number): void
  param(key: string, value: string | number | boolean): void
  /** Writes a file into the run's artifact folder (atomically) and records it. */
  artifact(path: string, data: Uint8Array | string): void
}

export type JobFunction<K extends JobKind = JobKind> = (context: JobContext<K>) => Promise<void>

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

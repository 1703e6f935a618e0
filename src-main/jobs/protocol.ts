// Messages between the job manager (parent) and a job process (child). Plain data: they cross a process boundary.
import type { JobSpec, MetricPoint, Placement } from '../contract/index.ts'
import type { SweepCell } from '../store/sweeps.ts'
import type { BoardReply, BoardRequest } from './board-rpc.ts'
import type { LatencyReply, LatencyRequest } from './latency-rpc.ts'
import type { TaskShare } from './cluster/task-plan.ts'

export interface ResumeState {
  /** Last step logged per metric key before the interruption. */
  lastSteps: Record<string, number>
  /** Sweep cells measured before the interruption. */
  sweepCells: SweepCell[]
}

export interface StartJob {
  type: 'start'
  runUuid: string
  spec: JobSpec
  /** Folder the job writes its artifacts into (the run's folder under the data folder). */
  artifactDir: string
  resume: ResumeState | null
  /** Resolved by the parent (see inputs.ts). */
  inputs: unknown
  /** Set for one task of a job fanned out on a cluster: the part of the work this process does (cluster/task-plan.ts). */
  share?: TaskShare | null
}

/** The start, then replies to the job's board requests (board-rpc.ts). */
export type ToJob = StartJob | BoardReply | LatencyReply

export type FromJob =
  /** placement: where a job on a cluster stands (its SLURM ids, tasks by state). */
  | { type: 'progress'; fraction: number; phase: string; message: string; placement?: Placement }
  /** Values are plain numbers, NaN and ±Infinity included: the channel is structured clone ('advanced'), not JSON. */
  | { type: 'metrics'; points: MetricPoint[] }
  | { type: 'cells'; cells: SweepCell[] }
  | { type: 'param'; key: string; value: string }
  | { type: 'artifact'; path: string; sha256: string; size: number }
  /** The job's result so far (latest wins), checked against its kind's schema by the parent before it is stored. */
  | { type: 'result'; value: unknown }
  | { type: 'done' }
  | { type: 'error'; message: string }
  /** Stopped from outside Benchside (scancel on the cluster): the run becomes KILLED with the reason. */
  | { type: 'killed'; reason: string }
  /** Board sessions and calls, answered by board-server.ts and never seen by the manager. */
  | BoardRequest
  /** Network latency on an agent board, answered by latency-server.ts and never seen by the manager. */
  | LatencyRequest

/** A running job process, whatever started it (child_process.fork or Electron's utilityProcess). */
export interface JobProcess {
  readonly pid: number | undefined
  send(message: ToJob): void
  onMessage(listener: (message: FromJob) => void): void
  onExit(listener: (code: number | null, signal: string | null) => void): void
  kill(signal?: NodeJS.Signals): void
  /** The host is closing but the job goes on elsewhere (a cluster): stop following it and return true. */
  detach?(): boolean
}

export type JobLauncher = () => JobProcess

// Runs jobs in their own processes, one run each: queueing, progress with ETA, cancel, crash handling, resume.
// The parent writes everything a job reports straight into the store, so a crash loses only the work in flight.
import { hostname } from 'node:os'
import { join } from 'node:path'
import { BenchsideError, jobResults, type Executor, type JobProgress, type JobSpec, type RunSummary } from '../contract/index.ts'
import type { Store } from '../store/store.ts'
import { jobKinds } from './kinds/index.ts'
import type { FromJob, JobLauncher, JobProcess, ResumeState } from './protocol.ts'

export interface JobManagerOptions {
  store: Store
  launch: JobLauncher
  /** Jobs running at once; more wait in the queue. Defaults to the number of cores. */
  concurrency: number
  onProgress: (progress: JobProgress) => void
  /** The store changed (a run's status, metrics, cells…); the change feed turns that into events. */
  onStoreChanged: () => void
  /** How long a cancelled job may take to exit before it is killed outright. */
  killGraceMs?: number
  /** Starts an inline job (see kinds/index.ts); without it, every job gets a process. */
  launchInline?: () => JobProcess
  /**
   * Starts a run placed on a cluster (cluster/cluster-job.ts); null for a local run. reattach: a restarted host takes
   * over a job whose array is still in the queue.
   */
  launchOnCluster?: (runUuid: string, reattach: boolean) => JobProcess | null
  /**
   * Resolves a job's inputs (dataset and model files) and the spec as it is stored: every id a user may type short
   * becomes the full uuid here, once. Throws a BenchsideError when something does not exist.
   */
  prepareInputs?: (spec: JobSpec) => { spec: JobSpec; inputs: unknown }
  /**
   * What the parent does with a job's output when the job says it is done, before the run becomes FINISHED (a dataset
   * import's staged folder is moved into place and registered). Throwing fails the run with the error's message.
   */
  completeJob?: (runUuid: string, spec: JobSpec) => void
  /** After a job's process has exited, however it ended: removes what a job left half-done. Must not throw. */
  jobExited?: (runUuid: string, spec: JobSpec) => void
}

interface ActiveJob {
  progress: JobProgress
  spec: JobSpec
  resume: ResumeState | null
  inputs: unknown
  process: JobProcess | null
  /** Set once the run has its final status; later messages from the process are ignored. */
  settled: boolean
  lastEmit: number
  /** First progress report of this launch, the origin of the ETA (a resumed job starts part-way). */
  origin: { fraction: number; time: number } | null
  /** Runs on a cluster: it takes no local slot and never waits in this queue. */
  remote: boolean
}

const PROGRESS_INTERVAL_MS = 100
/** A final status the store refused (locked, full) is written again after this long, doubling up to the maximum. */
const RECORD_RETRY_MS = 500
const RECORD_RETRY_MAX_MS = 30_000

/** A final status not yet in the store, and the timer that will try again. */
interface UnrecordedEnd {
  status: 'FINISHED' | 'FAILED' | 'KILLED' | 'INTERRUPTED'
  error: string | null
  at: number
  timer: NodeJS.Timeout
}

/** "2026-12-04 15:20:01" in this machine's time zone, as every other time Benchside shows. */
function localTimestamp(): string {
  const now = new Date()
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ')
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

export class JobManager {
  private readonly jobs = new Map<string, ActiveJob>()
  private readonly owner = { pid: process.pid, host: hostname() }
  /** Runs whose end is settled here but not yet recorded in the store, by uuid. */
  private readonly unrecorded = new Map<string, UnrecordedEnd>()
  /** Set by shutdown: ends are tried once more, then left to the next start. */
  private closing = false

  constructor(private readonly options: JobManagerOptions) {}

  start(typed: JobSpec, naming: { name?: string; experiment?: string } = {}, executor: Executor = { kind: 'local' }): RunSummary {
    const { spec, inputs } = this.prepare(typed)
    const run = this.options.store.runs.create({
      name: naming.name ?? `${spec.kind} ${localTimestamp()}`,
      kind: spec.kind,
      experiment: naming.experiment,
      jobSpec: spec,
      owner: this.owner,
    })
    for (const [key, value] of Object.entries(spec.params)) {
      if (value !== undefined) this.options.store.runs.logParam(run.uuid, key, typeof value === 'string' ? value : JSON.stringify(value))
    }
    if (executor.kind === 'slurm') this.options.store.clusters.place(run.uuid, executor.cluster, null)
    this.enqueue(run, spec, null, inputs)
    return this.options.store.runs.summary(run.uuid)
  }

  /**
   * Takes over a cluster job whose host stopped (a crash, a kill -9) while its array ran: the run stays RUNNING and
   * its results are followed from where the last host stopped reading.
   */
  reattach(runUuid: string): void {
    if (this.jobs.has(runUuid)) return
    const run = this.options.store.runs.summary(runUuid)
    const spec = this.options.store.runs.jobSpec(runUuid) as JobSpec | null
    if (!spec || !this.options.store.clusters.placementOf(runUuid)) return
    const job = this.newJob(run, spec, null, {})
    job.remote = true
    this.jobs.set(runUuid, job)
    this.launch(job, true)
  }

  resume(runUuid: string): RunSummary {
    const runs = this.options.store.runs
    const run = this.summary(runUuid)
    if (!['INTERRUPTED', 'FAILED', 'KILLED'].includes(run.status)) {
      throw new BenchsideError({ code: 'CONFLICT', message: `Run ${runUuid} is ${run.status}; only INTERRUPTED, FAILED or KILLED runs can be resumed.` })
    }
    if (this.jobs.has(runUuid)) {
      throw new BenchsideError({ code: 'CONFLICT', message: `Run ${runUuid} is still stopping; resume it in a moment.` })
    }
    const spec = runs.jobSpec(runUuid) as JobSpec | null
    if (!spec) throw new BenchsideError({ code: 'CONFLICT', message: `Run ${runUuid} was not started as a job, so there is nothing to resume.` })
    const { inputs } = this.prepare(spec)
    this.enqueue(run, spec, { lastSteps: runs.lastSteps(runUuid), sweepCells: this.options.store.sweeps.cells(runUuid) }, inputs)
    return runs.summary(runUuid)
  }

  cancel(runUuid: string): RunSummary {
    const job = this.jobs.get(runUuid)
    if (!job) {
      const run = this.options.store.runs.summary(runUuid)
      throw new BenchsideError({ code: 'CONFLICT', message: `Run ${runUuid} is ${run.status}, not a job running in this Benchside.` })
    }
    this.settle(job, 'KILLED', null)
    if (job.process) {
      const process = job.process
      process.kill('SIGTERM')
      setTimeout(() => process.kill('SIGKILL'), this.options.killGraceMs ?? 3000).unref()
    }
    return this.summary(runUuid)
  }

  private prepare(spec: JobSpec): { spec: JobSpec; inputs: unknown } {
    return this.options.prepareInputs?.(spec) ?? { spec, inputs: {} }
  }

  list(): JobProgress[] {
    return [...this.jobs.values()].map((job) => job.progress)
  }

  /**
   * On shutdown: stop every job; their runs become INTERRUPTED and can be resumed later. Ends the store refused so far
   * are tried once more; what still fails is found at the next start (its owner gone: INTERRUPTED).
   */
  shutdown(): void {
    this.closing = true
    for (const job of this.jobs.values()) {
      // A job on a cluster goes on without us: its run stays RUNNING and the next start re-attaches to it.
      if (job.process?.detach?.()) continue
      job.process?.kill('SIGKILL')
      this.settle(job, 'INTERRUPTED', 'Benchside was closed while this job ran; resume it to continue.')
    }
    for (const [uuid, end] of this.unrecorded) {
      clearTimeout(end.timer)
      this.unrecorded.delete(uuid)
      this.tryRecord(uuid, end.status, end.error)
    }
  }

  private enqueue(run: RunSummary, spec: JobSpec, resume: ResumeState | null, inputs: unknown): void {
    this.options.store.runs.markActive(run.uuid, 'SCHEDULED', this.owner)
    // The run is active again: an end of its previous attempt still waiting to be written must not overwrite that.
    const unrecorded = this.unrecorded.get(run.uuid)
    if (unrecorded) {
      clearTimeout(unrecorded.timer)
      this.unrecorded.delete(run.uuid)
    }
    const job = this.newJob(run, spec, resume, inputs)
    job.remote = this.options.store.clusters.placementOf(run.uuid) !== null
    this.jobs.set(run.uuid, job)
    this.emit(job, true)
    this.options.onStoreChanged()
    this.pump()
  }

  private newJob(run: RunSummary, spec: JobSpec, resume: ResumeState | null, inputs: unknown): ActiveJob {
    return {
      spec,
      resume,
      inputs,
      process: null,
      settled: false,
      lastEmit: 0,
      origin: null,
      remote: false,
      progress: {
        runUuid: run.uuid,
        kind: spec.kind,
        name: run.name,
        state: 'queued',
        fraction: 0,
        phase: 'queued',
        message: '',
        etaSeconds: null,
        startedAt: null,
      },
    }
  }

  private pump(): void {
    const local = [...this.jobs.values()].filter((job) => !job.remote)
    const running = local.filter((job) => job.progress.state === 'running').length
    const next = [...this.jobs.values()].find((job) => job.progress.state === 'queued' && (job.remote || running < this.options.concurrency))
    if (next) {
      this.launch(next)
      this.pump()
    }
  }

  private launch(job: ActiveJob, reattach = false): void {
    const { store } = this.options
    const uuid = job.progress.runUuid
    job.progress = { ...job.progress, state: 'running', phase: 'starting', startedAt: Date.now() }
    // Launches also happen when another job's process exits: a store that refuses this write must not escape there.
    try {
      store.runs.markActive(uuid, 'RUNNING', this.owner)
    } catch (error) {
      this.settle(job, 'FAILED', `Benchside could not record the start of this job: ${messageOf(error)}`)
      return
    }
    let child: JobProcess
    try {
      child =
        (job.remote ? this.options.launchOnCluster?.(uuid, reattach) : null) ??
        (jobKinds[job.spec.kind].inline && this.options.launchInline ? this.options.launchInline() : this.options.launch())
    } catch (error) {
      this.settle(job, 'FAILED', `The job process could not start: ${messageOf(error)}`)
      return
    }
    job.process = child
    let reportedError: string | null = null
    child.onMessage((message) => {
      if (job.settled) return
      if (message.type === 'error') reportedError = message.message
      else {
        // A write that fails (a full disk, a locked database, a value the store refuses) fails this job, never the host.
        try {
          this.receive(job, message)
        } catch (error) {
          this.fail(job, `Benchside could not store what the job reported: ${messageOf(error)}`)
        }
      }
    })
    child.onExit((code, signal) => {
      job.process = null
      try {
        this.options.jobExited?.(uuid, job.spec)
      } catch {
        // Clean-up is best effort; whatever it left is swept at the next start.
      }
      if (!job.settled) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        this.settle(job, 'FAILED', reportedError ?? `The job process ${how} before finishing; metrics written so far are kept.`)
      }
      this.jobs.delete(uuid)
      this.pump()
    })
    child.send({ type: 'start', runUuid: uuid, spec: job.spec, artifactDir: join(store.artifactsDir, uuid), resume: job.resume, inputs: job.inputs })
    this.emit(job, true)
  }

  private receive(job: ActiveJob, message: Exclude<FromJob, { type: 'error' }>): void {
    const runs = this.options.store.runs
    const uuid = job.progress.runUuid
    switch (message.type) {
      case 'progress': {
        const now = Date.now()
        job.origin ??= { fraction: message.fraction, time: now }
        const done = message.fraction - job.origin.fraction
        const elapsed = (now - job.origin.time) / 1000
        job.progress = {
          ...job.progress,
          fraction: message.fraction,
          phase: message.phase,
          message: message.message,
          etaSeconds: done > 0 && elapsed > 0 ? (elapsed / done) * (1 - message.fraction) : null,
          ...(message.placement ? { placement: message.placement } : {}),
        }
        this.emit(job, message.fraction >= 1)
        break
      }
      case 'metrics':
        runs.logMetrics(uuid, message.points)
        this.options.onStoreChanged()
        break
      case 'cells':
        this.options.store.sweeps.addCells(uuid, message.cells)
        this.options.onStoreChanged()
        break
      case 'param':
        runs.logParam(uuid, message.key, message.value)
        break
      case 'artifact':
        runs.recordArtifact(uuid, message.path, message.sha256, message.size)
        break
      case 'result': {
        const parsed = jobResults[job.spec.kind].safeParse(message.value)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const where = issue?.path.length ? ` at '${issue.path.join('.')}'` : ''
          this.fail(
            job,
            `The ${job.spec.kind} job reported a result that does not match its contract${where}: ${issue?.message ?? 'invalid'}. This is a bug in Benchside; please report it.`,
          )
          return
        }
        this.options.store.results.write(uuid, parsed.data)
        this.options.onStoreChanged()
        break
      }
      case 'killed':
        this.settle(job, 'KILLED', message.reason)
        break
      case 'done':
        try {
          this.options.completeJob?.(uuid, job.spec)
        } catch (error) {
          this.fail(job, error instanceof Error ? error.message : String(error))
          return
        }
        this.settle(job, 'FINISHED', null)
        break
    }
  }

  /** Ends a job whose process is still running: it is stopped, its run FAILED with the reason. */
  private fail(job: ActiveJob, reason: string): void {
    job.process?.kill('SIGKILL')
    this.settle(job, 'FAILED', reason)
  }

  /**
   * Ends a job here and records its final status. Never throws: it runs in process listeners, where a throw would end
   * the host. When the store refuses the write (locked past the busy timeout, disk full), the job stays settled, the
   * progress event says why, and the write is tried again later; if Benchside stops first, the next start finds the
   * run still RUNNING with its owner gone and marks it INTERRUPTED.
   */
  private settle(job: ActiveJob, status: UnrecordedEnd['status'], error: string | null): void {
    if (job.settled) return
    job.settled = true
    const uuid = job.progress.runUuid
    const recorded = this.tryRecord(uuid, status, error)
    const later = this.closing ? 'the next start marks it INTERRUPTED' : 'it tries again'
    const state = status === 'FINISHED' ? 'finished' : status === 'KILLED' ? 'killed' : 'failed'
    job.progress = {
      ...job.progress,
      state,
      fraction: status === 'FINISHED' ? 1 : job.progress.fraction,
      phase: status.toLowerCase(),
      message: recorded === true ? (error ?? '') : [error, `Benchside could not record that the run ended (${recorded}); ${later}.`].filter(Boolean).join(' '),
      etaSeconds: null,
    }
    if (recorded !== true) {
      console.error(`[benchside] run ${uuid} ended ${status} but the store refused it (${recorded}); ${later}.`)
      if (!this.closing) this.retryRecord(uuid, { status, error, at: Date.now() }, RECORD_RETRY_MS)
    }
    if (!job.process) this.jobs.delete(uuid)
    this.emit(job, true)
    this.options.onStoreChanged()
  }

  /** Writes a run's final status: true, or the store's reason for refusing it. */
  private tryRecord(uuid: string, status: UnrecordedEnd['status'], error: string | null): true | string {
    try {
      this.options.store.runs.finish(uuid, status, error)
      return true
    } catch (failure) {
      return messageOf(failure)
    }
  }

  private retryRecord(uuid: string, end: Omit<UnrecordedEnd, 'timer'>, delayMs: number): void {
    const timer = setTimeout(() => {
      this.unrecorded.delete(uuid)
      if (this.closing) return
      if (this.tryRecord(uuid, end.status, end.error) === true) this.options.onStoreChanged()
      else this.retryRecord(uuid, end, Math.min(delayMs * 2, RECORD_RETRY_MAX_MS))
    }, delayMs)
    timer.unref()
    this.unrecorded.set(uuid, { ...end, timer })
  }

  /** The run as stored, with the end this manager settled but could not record yet. */
  private summary(uuid: string): RunSummary {
    const stored = this.options.store.runs.summary(uuid)
    const end = this.unrecorded.get(uuid)
    return end ? { ...stored, status: end.status, error: end.error, endTime: end.at } : stored
  }

  private emit(job: ActiveJob, force: boolean): void {
    const now = Date.now()
    if (!force && now - job.lastEmit < PROGRESS_INTERVAL_MS) return
    job.lastEmit = now
    this.options.onProgress(job.progress)
  }
}

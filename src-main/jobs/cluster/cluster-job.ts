// A job running on a SLURM cluster, seen by the job manager as one more job process: 'start' stages the inputs and
// submits a job array, the messages are the tasks' result lines as they arrive, kill is scancel. Its state (array ids,
// attempts, how far each result file was read) is kept in the store, so a restarted host re-attaches and reads every
// line once, and a resume submits only the tasks whose results are missing.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join, posix } from 'node:path'
import { z } from 'zod'
import type { ClusterProfile, Placement } from '../../contract/index.ts'
import { pathInside, writeFileAtomic } from '../../store/files.ts'
import type { Store } from '../../store/store.ts'
import type { FromJob, JobProcess, StartJob, ToJob } from '../protocol.ts'
import type { ClusterShell } from './shell.ts'
import { shellQuote } from '../../hardware/ssh-connect.ts'
import { cancelJobs, oneLine, queryJobs, submitArray, type TaskState } from './slurm.ts'
import { decodeLines, TaskMessage } from './task-lines.ts'
import { planTasks, type TaskPlan } from './task-plan.ts'
import { TaskFile } from './worker.ts'

const TaskRecord = z.object({
  /** 0 until first submitted; each retry or resume is a new attempt with its own files. */
  attempt: z.number().int(),
  jobId: z.string().nullable(),
  /** Bytes of this attempt's result file already read and written to the store. */
  offset: z.number().int(),
  done: z.boolean(),
  /** Attempts that failed on this submission (reset by a resume). */
  failures: z.number().int(),
  result: z.unknown().optional(),
  lastError: z.string().optional(),
  fraction: z.number().default(0),
})
type TaskRecord = z.infer<typeof TaskRecord>

export const ClusterRunState = z.object({
  runDir: z.string(),
  tasks: z.array(TaskRecord),
  /** An array is in the queue and followed (false once the job ended here, however it ended). */
  live: z.boolean(),
})
export type ClusterRunState = z.infer<typeof ClusterRunState>

export interface ClusterJobDeps {
  store: Store
  runUuid: string
  profile: ClusterProfile
  shell: ClusterShell
  /** The run's local artifact folder, where artifacts the tasks wrote are copied. */
  artifactDir: string
  /** True when a host restarts and takes over a job whose array is (probably) still in the queue. */
  reattach: boolean
  pollMs?: number
}

const STDERR_TAIL_LINES = 12

export class ClusterJob implements JobProcess {
  readonly pid = undefined
  private readonly messageListeners: ((message: FromJob) => void)[] = []
  private readonly exitListeners: ((code: number | null, signal: string | null) => void)[] = []
  private state: ClusterRunState | null = null
  private plan: TaskPlan | null = null
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private detached = false
  private exited = false
  private polling = false
  private reason = ''
  private lastPhase = 'submitting'
  private lastStates: TaskState[] = []

  constructor(private readonly deps: ClusterJobDeps) {}

  onMessage(listener: (message: FromJob) => void): void {
    this.messageListeners.push(listener)
  }

  onExit(listener: (code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(listener)
  }

  send(message: ToJob): void {
    if (message.type !== 'start') return
    this.begin(message).catch((error: unknown) => this.end(1, error instanceof Error ? error.message : String(error)))
  }

  /** Cancel: scancel every array of this job, then the job is over here. */
  kill(): void {
    if (this.exited) return
    this.stopped = true
    // Cancelled before `begin` read the stored state (a re-attached job cancelled at once): the arrays are in the store.
    if (!this.state) {
      const stored = ClusterRunState.safeParse(this.deps.store.clusters.placementOf(this.deps.runUuid)?.state)
      if (stored.success) this.state = stored.data
    }
    const ids = this.liveJobIds()
    if (this.state) this.save({ ...this.state, live: false })
    void cancelJobs(this.deps.shell, ids)
      .catch((error: unknown) => console.error(`[benchside] scancel for run ${this.deps.runUuid}: ${String(error)}`))
      .finally(() => this.exit(null, 'SIGTERM'))
  }

  /** The host is closing: stop following and leave the array running; the next start re-attaches. */
  detach(): boolean {
    this.stopped = true
    this.detached = true
    if (this.timer) clearTimeout(this.timer)
    this.deps.shell.close()
    return true
  }

  private emit(message: FromJob): void {
    for (const listener of this.messageListeners) listener(message)
  }

  private exit(code: number | null, signal: string | null): void {
    if (this.exited) return
    this.exited = true
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.deps.shell.close()
    for (const listener of this.exitListeners) listener(code, signal)
  }

  /** Ends the job here: an error message (the manager fails the run with it) or a kill from outside. */
  private end(code: number, error: string | null, killed = false): void {
    if (this.exited) return
    if (this.state) this.save({ ...this.state, live: false })
    if (error) this.emit(killed ? { type: 'killed', reason: error } : { type: 'error', message: error })
    this.exit(code, null)
  }

  private save(state: ClusterRunState): void {
    this.state = state
    this.deps.store.clusters.saveState(this.deps.runUuid, state)
  }

  private liveJobIds(): string[] {
    return [...new Set((this.state?.tasks ?? []).filter((t) => !t.done && t.jobId).map((t) => t.jobId!))]
  }

  private async begin(start: StartJob): Promise<void> {
    const { store, runUuid, profile } = this.deps
    const stored = store.clusters.placementOf(runUuid)?.state
    const previous = stored ? ClusterRunState.safeParse(stored) : null
    if (this.deps.reattach && previous?.success && previous.data.live) {
      this.plan = await planTasks(start.spec, start.inputs, previous.data.tasks.length)
      this.state = previous.data
      this.progress('following')
      return this.schedule(0)
    }
    if (this.deps.reattach) {
      // The last host stopped after the array ended but before it recorded that: finish from the results, or say why not.
      if (previous?.success && previous.data.tasks.every((t) => t.done)) {
        this.plan = await planTasks(start.spec, start.inputs, previous.data.tasks.length)
        this.state = previous.data
        return this.finish()
      }
      return this.end(1, 'Benchside stopped while this job was being submitted to the cluster; resume it to submit the missing tasks.')
    }
    this.plan = await planTasks(start.spec, start.inputs)
    const runDir = posix.join(profile.workDir, runUuid)
    // A resume keeps what finished; every other task is submitted again as a new attempt.
    const kept = previous?.success && previous.data.tasks.length === this.plan.count ? previous.data.tasks : []
    const tasks: TaskRecord[] = Array.from({ length: this.plan.count }, (_, i) => {
      const before = kept[i]
      return before?.done ? before : { attempt: before?.attempt ?? 0, jobId: null, offset: 0, done: false, failures: 0, fraction: 0 }
    })
    this.save({ runDir, tasks, live: true })
    this.progress('staging inputs')
    const inputs = await stageInputs(this.deps.shell, start.inputs, posix.join(runDir, 'inputs'))
    const script = posix.join(runDir, 'task.sh')
    await this.deps.shell.writeFile(script, taskScript(profile), 0o755)
    const template = { runUuid, spec: start.spec, inputs, resume: start.resume, artifactDir: posix.join(runDir, 'artifacts') }
    await this.submit(
      tasks.flatMap((t, i) => (t.done ? [] : [i])),
      template,
    )
    this.schedule(0)
  }

  /** Writes each task's file for its next attempt and submits them as one array. */
  private async submit(indices: number[], template?: Omit<TaskFile, 'share' | 'out'>): Promise<void> {
    const state = this.state!
    if (indices.length === 0) return
    const base = template ?? (await this.readBase(state.runDir))
    if (template) await this.deps.shell.writeFile(posix.join(state.runDir, 'task-base.json'), JSON.stringify(template))
    const tasks = state.tasks.map((t) => ({ ...t }))
    // All tasks of one submission share an attempt number: the script finds task-<index>.json, the files name the attempt.
    const attempt = Math.max(...indices.map((i) => tasks[i]!.attempt)) + 1
    for (const i of indices) {
      const file: TaskFile = {
        ...base,
        // A retry resumes from what the store holds now: cells measured before are not measured again.
        resume: template ? base.resume : this.resumeState(),
        share: this.plan!.count > 1 ? { index: i, count: this.plan!.count } : null,
        out: posix.join(state.runDir, `task-${i}.attempt-${attempt}.jsonl`),
      }
      await this.deps.shell.writeFile(posix.join(state.runDir, `task-${i}.json`), JSON.stringify(file))
    }
    const jobId = await submitArray(this.deps.shell, this.deps.profile, {
      script: posix.join(state.runDir, 'task.sh'),
      indices,
      name: `benchside-${this.deps.runUuid.slice(0, 8)}`,
      runDir: state.runDir,
      attempt,
    })
    // Cancelled while sbatch ran: kill() found no id to cancel, so this array is cancelled here.
    if (this.stopped && !this.detached) return cancelJobs(this.deps.shell, [jobId])
    for (const i of indices) tasks[i] = { ...tasks[i]!, attempt, jobId, offset: 0, fraction: 0 }
    this.save({ ...state, tasks })
  }

  private async readBase(runDir: string): Promise<Omit<TaskFile, 'share' | 'out'>> {
    const file = posix.join(runDir, 'task-base.json')
    const text = await this.deps.shell.readFrom(file, 0)
    if (!text) throw new Error(`${file} is gone from the cluster, so its tasks cannot be submitted again; start the job anew.`)
    return TaskFileBase.parse(JSON.parse(text.toString('utf8')))
  }

  private resumeState(): TaskFile['resume'] {
    const { store, runUuid } = this.deps
    return { lastSteps: store.runs.lastSteps(runUuid), sweepCells: store.sweeps.cells(runUuid) }
  }

  /** The next poll. Not unref'd: a CLI following a cluster job has nothing else keeping it alive. */
  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.poll().then(
        () => this.schedule(this.deps.pollMs ?? 1000),
        (error: unknown) => {
          // A poll that failed (the login host dropped, scontrol timed out) is tried again; the job goes on in SLURM.
          this.reason = `cannot reach the cluster: ${error instanceof Error ? error.message : String(error)}`
          this.progress(this.lastPhase)
          this.schedule(Math.max(5000, this.deps.pollMs ?? 1000))
        },
      )
    }, delayMs)
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return
    this.polling = true
    try {
      await this.readAll()
      if (this.stopped) return
      const open = this.state!.tasks.map((t, i) => ({ t, i })).filter(({ t }) => !t.done && t.jobId)
      this.lastStates = open.length ? await queryJobs(this.deps.shell, [...new Set(open.map(({ t }) => t.jobId!))]) : []
      const failed: number[] = []
      for (const { t, i } of open) {
        const slurm = this.lastStates.find((s) => s.jobId === t.jobId && (s.index === i || s.index === null))
        if (slurm && (slurm.phase === 'pending' || slurm.phase === 'running')) continue
        // It ended (or SLURM forgot it): what it wrote after the read above is read now.
        await this.readTask(i)
        if (this.state!.tasks[i]!.done || this.stopped) continue
        if (slurm?.phase === 'cancelled') {
          await cancelJobs(this.deps.shell, this.liveJobIds()).catch(() => {})
          return this.end(
            1,
            `Cancelled in SLURM (scancel or the cluster's administrator): task ${i} of job ${t.jobId}${slurm.reason ? ` (${slurm.reason})` : ''}.`,
            true,
          )
        }
        failed.push(i)
      }
      if (failed.length) await this.retryOrFail(failed)
      if (this.stopped) return
      if (this.state!.tasks.every((t) => t.done)) return this.finish()
      this.reason = [...new Set(this.lastStates.filter((s) => s.phase === 'pending' && s.reason).map((s) => s.reason))].join(', ')
      this.progress(this.lastStates.some((s) => s.phase === 'running') ? 'running on the cluster' : 'queued on the cluster')
    } finally {
      this.polling = false
    }
  }

  private async retryOrFail(indices: number[]): Promise<void> {
    const state = this.state!
    const tasks = state.tasks.map((t) => ({ ...t }))
    const describe = async (i: number) => {
      const t = tasks[i]!
      const slurm = this.lastStates.find((s) => s.jobId === t.jobId && s.index === i)
      const stderr = await this.deps.shell.readFrom(posix.join(state.runDir, `task-${i}.attempt-${t.attempt}.err`), 0).catch(() => null)
      const tail = stderr ? stderr.toString('utf8').trim().split('\n').slice(-STDERR_TAIL_LINES).join('\n') : ''
      const how = slurm ? `${slurm.state}${slurm.reason ? ` (${slurm.reason})` : ''}${slurm.node ? ` on ${slurm.node}` : ''}` : 'ended'
      return `Task ${i} (job ${t.jobId}_${i}, attempt ${t.failures + 1}) ${how}${t.lastError ? `: ${t.lastError}` : ''}${tail ? `\n--- stderr (last lines) ---\n${tail}` : ''}`
    }
    const final: string[] = []
    const again: number[] = []
    for (const i of indices) {
      tasks[i]!.failures += 1
      if (tasks[i]!.failures > this.deps.profile.retries) final.push(await describe(i))
      else {
        this.reason = oneLine((await describe(i)).split('\n')[0]!) + '; submitted again'
        again.push(i)
      }
    }
    this.save({ ...state, tasks })
    if (final.length) {
      await cancelJobs(this.deps.shell, this.liveJobIds()).catch(() => {})
      return this.end(1, `The job failed on cluster ${this.deps.profile.name} after ${this.deps.profile.retries + 1} attempt(s) per task. ${final.join('\n')}`)
    }
    await this.submit(again)
  }

  /** Reads every task that may have written since the last poll: not those SLURM still held back then. */
  private async readAll(): Promise<void> {
    for (let i = 0; i < this.state!.tasks.length && !this.stopped; i++) {
      const t = this.state!.tasks[i]!
      const held = this.lastStates.some((s) => s.jobId === t.jobId && (s.index === i || s.index === null) && s.phase === 'pending')
      if (!held) await this.readTask(i)
    }
  }

  /** Reads what task i's current attempt wrote since the last read, and hands each line on in order. */
  private async readTask(i: number): Promise<void> {
    const task = this.state!.tasks[i]!
    if (task.done || task.attempt === 0 || !task.jobId) return
    const file = posix.join(this.state!.runDir, `task-${i}.attempt-${task.attempt}.jsonl`)
    const chunk = await this.deps.shell.readFrom(file, task.offset)
    if (!chunk || chunk.length === 0) return
    const { messages, consumed } = decodeLines(chunk)
    if (consumed === 0) return
    const next: TaskRecord = { ...task, offset: task.offset + consumed }
    for (const raw of messages) {
      const parsed = TaskMessage.safeParse(raw)
      if (!parsed.success) {
        console.error(`[benchside] run ${this.deps.runUuid}: task ${i} wrote a line Benchside does not understand; it is skipped.`)
        continue
      }
      const message = parsed.data
      switch (message.type) {
        case 'progress':
          next.fraction = Math.min(1, Math.max(0, message.fraction))
          this.lastPhase = message.phase || this.lastPhase
          break
        case 'result':
          next.result = message.value
          break
        case 'done':
          next.done = true
          next.fraction = 1
          break
        case 'error':
          next.lastError = message.message
          break
        case 'param':
          this.forwardParam(i, message.key, message.value)
          break
        case 'artifact':
          await this.fetchArtifact(message.path, message.sha256)
          this.emit(message)
          break
        default:
          this.emit(message)
      }
    }
    const tasks = [...this.state!.tasks]
    tasks[i] = next
    // Saved after the lines went to the store: a crash in between reads them again, which the store takes as the same.
    this.save({ ...this.state!, tasks })
  }

  /** Params are written once: a task that reports another value for a key (another node's backend) keeps it apart. */
  private forwardParam(task: number, key: string, value: string): void {
    const existing = this.deps.store.runs.params(this.deps.runUuid)[key]
    if (existing === undefined || existing === value) this.emit({ type: 'param', key, value })
    else this.emit({ type: 'param', key: `${key}@task${task}`, value })
  }

  private async fetchArtifact(path: string, sha256: string): Promise<void> {
    const local = pathInside(this.deps.artifactDir, path)
    const remote = posix.join(this.state!.runDir, 'artifacts', ...path.split('/'))
    const staged = `${local}.cluster.tmp`
    await this.deps.shell.download(remote, staged)
    const data = readFileSync(staged)
    const got = createHash('sha256').update(data).digest('hex')
    if (got !== sha256) throw new Error(`The artifact ${path} copied from the cluster does not match what the task wrote (sha256 ${got}, expected ${sha256}).`)
    writeFileAtomic(local, data)
    rmSync(staged, { force: true })
  }

  private finish(): void {
    const state = this.state!
    const { result, metrics } = this.plan!.merge(state.tasks.map((t) => t.result))
    if (metrics.length) this.emit({ type: 'metrics', points: metrics.map((m) => ({ ...m, time: Date.now() })) })
    if (result !== undefined) this.emit({ type: 'result', value: result })
    this.save({ ...state, live: false })
    this.emit({ type: 'done' })
    this.exit(0, null)
  }

  private progress(phase: string): void {
    const tasks = this.state?.tasks ?? []
    const counts = { pending: 0, running: 0, done: 0, failed: 0 }
    for (const [i, t] of tasks.entries()) {
      if (t.done) counts.done++
      // A task that failed and runs again is counted as failed until it is done: the tray shows that retries happen.
      else if (t.failures > 0) counts.failed++
      else if (this.lastStates.some((s) => s.jobId === t.jobId && (s.index === i || s.index === null) && s.phase === 'running')) counts.running++
      else counts.pending++
    }
    const placement: Placement = {
      cluster: this.deps.profile.name,
      slurmJobIds: [...new Set(tasks.filter((t) => t.jobId).map((t) => t.jobId!))],
      tasks: counts,
      reason: this.reason,
    }
    const fraction = tasks.length ? tasks.reduce((sum, t) => sum + (t.done ? 1 : t.fraction), 0) / tasks.length : 0
    const message = `${counts.done}/${tasks.length} task(s) done on ${this.deps.profile.name}${counts.running ? `, ${counts.running} running` : ''}${counts.pending ? `, ${counts.pending} pending` : ''}${this.reason ? ` · ${this.reason}` : ''}`
    this.emit({ type: 'progress', fraction, phase, message, placement })
  }
}

/** What every task file of a run shares; written once as task-base.json, read back for retries. */
const TaskFileBase = TaskFile.omit({ share: true, out: true })

/** The batch script: every array task runs `benchside worker` on its own task file. */
export function taskScript(profile: ClusterProfile): string {
  return [
    '#!/bin/sh',
    '# Written by Benchside: one array task = one share of a job (see docs/clusters.md).',
    `exec ${shellQuote(profile.nodePath)} ${shellQuote(posix.join(profile.benchsideDir, 'bin', 'benchside.js'))} worker "task-$SLURM_ARRAY_TASK_ID.json"`,
    '',
  ].join('\n')
}

/** Copies a job's input files (model folder, datasets) into the run's folder on the cluster and points the inputs there. */
export async function stageInputs(shell: ClusterShell, inputs: unknown, remoteDir: string): Promise<unknown> {
  if (!inputs || typeof inputs !== 'object') return inputs
  const staged: Record<string, unknown> = { ...(inputs as Record<string, unknown>) }
  for (const [key, value] of Object.entries(staged)) {
    if (key === 'modelJson' && typeof value === 'string') {
      const folder = posix.join(remoteDir, key)
      await uploadTree(shell, dirname(value), folder)
      staged[key] = posix.join(folder, basename(value))
    } else if (value && typeof value === 'object' && 'path' in value && 'format' in value && typeof value.path === 'string') {
      const target = posix.join(remoteDir, key, basename(value.path))
      await uploadTree(shell, value.path, target)
      staged[key] = { ...value, path: target }
    }
  }
  return staged
}

async function uploadTree(shell: ClusterShell, local: string, remote: string): Promise<void> {
  if (!statSync(local).isDirectory()) return shell.upload(local, remote)
  for (const entry of readdirSync(local, { withFileTypes: true })) {
    if (entry.name.endsWith('.tmp')) continue
    await uploadTree(shell, join(local, entry.name), posix.join(remote, entry.name))
  }
}

// Analog room state: serial analog boards for Devices (connect, INFO, calibration) and the hardware-in-the-loop runs
// of the Analog & HIL room (set-up form, history, results as they grow).
import {
  BenchsideError,
  HilEvaluateParams,
  HilFinetuneParams,
  type AnalogBoardStatus,
  type AnalogCalibration,
  type HilResult,
  type JobProgress,
  type ModelInfo,
  type RunSummary,
} from '../../src-main/contract/index.ts'
import type { z } from 'zod'
import { api, errorText } from '../lib/api.svelte.ts'
import { jobs } from './jobs.svelte.ts'

export const HIL_KINDS = ['hil-evaluate', 'hil-finetune'] as const
export type HilKind = (typeof HIL_KINDS)[number]

export function isLive(status: string | undefined): boolean {
  return status === 'SCHEDULED' || status === 'RUNNING'
}

const ended = (p: JobProgress) => p.state !== 'queued' && p.state !== 'running'
const endedText = (p: JobProgress, what: string) =>
  p.state === 'killed' ? `The ${what} was cancelled.` : `The ${what} failed: ${p.message.replace(/\.$/, '') || 'see its run in Runs'}.`

class AnalogBoardsState {
  list = $state<AnalogBoardStatus[]>([])
  /** Why port discovery found nothing (e.g. no udev in a container). */
  warning = $state<string | null>(null)
  loaded = $state(false)
  error = $state<string | null>(null)
  /** The port whose details (INFO, calibration) show below the list. */
  selected = $state<string | null>(null)
  /** The port being connected or disconnected. */
  busy = $state<string | null>(null)
  actionError = $state<{ port: string; message: string } | null>(null)
  /** Newest calibration per port (null: none yet; absent: not loaded). */
  calibrations = $state<Record<string, AnalogCalibration | null>>({})
  /** Calibration runs in progress, per port. */
  calibrating = $state<Record<string, string>>({})
  calibrationError = $state<Record<string, string>>({})

  selectedBoard = $derived(this.list.find((b) => b.port === this.selected) ?? null)

  async refresh(): Promise<void> {
    try {
      const { boards, warning } = await api.listAnalogBoards({})
      this.list = boards
      this.warning = warning
      this.error = null
      if (!this.selected || !boards.some((b) => b.port === this.selected)) this.selected = (boards.find((b) => b.state === 'connected') ?? boards[0])?.port ?? null
      if (this.selected) await this.loadCalibration(this.selected)
    } catch (error) {
      this.error = errorText(error)
    } finally {
      this.loaded = true
    }
  }

  select(port: string): void {
    this.selected = port
    void this.loadCalibration(port)
  }

  /** A board's calibration is stored by device id; the store also finds it by the port the device was last seen on. */
  async loadCalibration(port: string): Promise<void> {
    const device = this.list.find((b) => b.port === port)?.deviceId ?? port
    try {
      this.calibrations[port] = await api.getAnalogCalibration({ device })
    } catch (error) {
      this.calibrationError[port] = errorText(error)
    }
  }

  async connect(port: string): Promise<void> {
    await this.act(port, async () => {
      const status = await api.connectAnalogBoard({ port })
      this.selected = status.port
    })
  }

  async disconnect(port: string): Promise<void> {
    await this.act(port, async () => void (await api.disconnectAnalogBoard({ port })))
  }

  private async act(port: string, work: () => Promise<void>): Promise<void> {
    this.busy = port
    this.actionError = null
    try {
      await work()
    } catch (error) {
      this.actionError = { port, message: errorText(error) }
    } finally {
      this.busy = null
      await this.refresh()
    }
  }

  async calibrate(port: string, repeats: number): Promise<void> {
    delete this.calibrationError[port]
    try {
      const run = await api.startJob({ kind: 'analog-calibrate', params: { board: port, repeats }, name: `calibrate ${port}` })
      this.calibrating[port] = run.uuid
    } catch (error) {
      this.calibrationError[port] = errorText(error)
    }
  }

  onJobProgress(progress: JobProgress): void {
    if (progress.kind !== 'analog-calibrate' || !ended(progress)) return
    const port = Object.keys(this.calibrating).find((p) => this.calibrating[p] === progress.runUuid)
    if (!port) return
    delete this.calibrating[port]
    if (progress.state === 'finished') void this.refresh().then(() => this.loadCalibration(port))
    else this.calibrationError[port] = endedText(progress, 'calibration')
  }

  /** Calibrations started before a reload (or from another window) are found among the live jobs. */
  async adoptRunningCalibrations(): Promise<void> {
    for (const job of await api.listJobs({})) {
      if (job.kind !== 'analog-calibrate' || ended(job) || Object.values(this.calibrating).includes(job.runUuid)) continue
      const board = (await api.getRun({ run: job.runUuid })).params.board
      if (board) this.calibrating[board] = job.runUuid
    }
  }
}

/** What the HIL set-up form edits; numbers are null while an input is empty. */
export interface HilForm {
  model: string
  board: string
  layers: 'dense' | 'all'
  limit: number | null
  seed: number | null
  epochs: number | null
  trainLimit: number | null
  batchSize: number | null
  learningRate: number | null
}

/** The form's words for the contract's fields, so a rejected value is named as the form names it. */
const FIELD_LABELS: Record<string, string> = {
  model: 'Model',
  board: 'Board',
  limit: 'Test samples',
  seed: 'Seed',
  epochs: 'Epochs',
  trainLimit: 'Train samples',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
}

function defaultForm(): HilForm {
  const d = HilFinetuneParams.parse({ model: 'x' })
  return { model: '', board: d.board, layers: 'dense', limit: 1000, seed: d.seed, epochs: d.epochs, trainLimit: d.trainLimit, batchSize: d.batchSize, learningRate: d.learningRate }
}

export type HilSpec =
  | { kind: 'hil-evaluate'; params: z.output<typeof HilEvaluateParams> }
  | { kind: 'hil-finetune'; params: z.output<typeof HilFinetuneParams> }

/** The job from the form, or an error that names the field as the form does. */
export function hilSpec(form: HilForm, kind: HilKind): HilSpec {
  const shared = { model: form.model, board: form.board, layers: form.layers, limit: form.limit, seed: form.seed }
  const finetune = { ...shared, epochs: form.epochs, trainLimit: form.trainLimit, batchSize: form.batchSize, learningRate: form.learningRate }
  const parsed = kind === 'hil-evaluate' ? HilEvaluateParams.safeParse(shared) : HilFinetuneParams.safeParse(finetune)
  if (parsed.success) return { kind, params: parsed.data } as HilSpec
  const issue = parsed.error.issues[0]!
  const field = String(issue.path[0] ?? '')
  if (field === 'model') throw new Error('Choose a model to run on the board.')
  const value = (form as unknown as Record<string, unknown>)[field]
  const why = value === null || value === undefined || value === '' ? 'give a number' : issue.message.replace(/\.$/, '')
  throw new Error(`${FIELD_LABELS[field] ?? field}: ${why}.`)
}

/** How many of the newest HIL runs get their accuracies fetched for the history table. */
const HISTORY_RESULTS = 40

class HilState {
  /** Whether the room is on screen; change events refresh it only then. */
  visible = false
  runs = $state<RunSummary[]>([])
  results = $state<Record<string, HilResult>>({})
  /** Why a run shows no results (no hil.json yet: the first batch is still being measured; or an error). */
  pending = $state<Record<string, { measuring: boolean; message: string }>>({})
  selected = $state<string | null>(null)
  models = $state<ModelInfo[]>([])
  loaded = $state(false)
  listError = $state<string | null>(null)
  startError = $state<string | null>(null)
  starting = $state(false)
  form = $state<HilForm>(defaultForm())

  selectedRun = $derived(this.runs.find((r) => r.uuid === this.selected) ?? null)
  selectedResult = $derived(this.selected ? (this.results[this.selected] ?? null) : null)

  async show(): Promise<void> {
    this.visible = true
    await Promise.all([this.refresh(), analogBoards.refresh()])
  }

  async refresh(): Promise<void> {
    try {
      const [evaluations, finetunes, models] = await Promise.all([
        api.listRuns({ kind: 'hil-evaluate' }),
        api.listRuns({ kind: 'hil-finetune' }),
        api.listModels({}),
      ])
      this.runs = [...evaluations, ...finetunes].sort((a, b) => b.createdAt - a.createdAt)
      this.models = models
      if (!this.form.model || !models.some((m) => m.id === this.form.model)) this.form.model = models[0]?.id ?? ''
      if (!this.selected || !this.runs.some((r) => r.uuid === this.selected)) this.selected = this.runs[0]?.uuid ?? null
      this.listError = null
      await Promise.all(this.runs.slice(0, HISTORY_RESULTS).map((r) => this.load(r.uuid)))
      if (this.selected) await this.load(this.selected)
    } catch (error) {
      this.listError = errorText(error)
    } finally {
      this.loaded = true
    }
  }

  /** Fetches a run's results unless they are final already. */
  async load(uuid: string, force = false): Promise<void> {
    const cached = this.results[uuid]
    if (!force && cached && !isLive(cached.status) && !isLive(this.runs.find((r) => r.uuid === uuid)?.status)) return
    try {
      this.results[uuid] = await api.getHil({ run: uuid })
      delete this.pending[uuid]
    } catch (error) {
      // NOT_FOUND until the job writes hil.json after its first measured batch.
      const measuring = error instanceof BenchsideError && error.code === 'NOT_FOUND' && isLive(this.runs.find((r) => r.uuid === uuid)?.status)
      this.pending[uuid] = { measuring, message: errorText(error) }
    }
  }

  select(uuid: string): void {
    this.selected = uuid
    void this.load(uuid)
  }

  async start(kind: HilKind): Promise<void> {
    this.starting = true
    try {
      const spec = hilSpec(this.form, kind)
      const { model, board } = spec.params
      const name = `${kind === 'hil-evaluate' ? 'evaluate' : 'fine-tune'} ${this.models.find((m) => m.id === model)?.name ?? model.slice(0, 8)} on ${board}`
      const run = await api.startJob({ ...spec, name })
      this.startError = null
      this.runs = [run, ...this.runs.filter((r) => r.uuid !== run.uuid)]
      this.selected = run.uuid
      this.pending[run.uuid] = { measuring: true, message: '' }
    } catch (error) {
      this.startError = errorText(error)
    } finally {
      this.starting = false
    }
  }
}

export const analogBoards = new AnalogBoardsState()
export const hil = new HilState()

// Jobs write in bursts (hil.json per batch, a metric per step): coalesce the refreshes.
function coalesce(work: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null
  return () => {
    timer ??= setTimeout(() => {
      timer = null
      work()
    }, ms)
  }
}

const refreshBoards = coalesce(() => void analogBoards.refresh(), 150)
const refreshHil = coalesce(() => void (hil.visible && hil.refresh()), 300)
const reloadLive = new Map<string, () => void>()

api.on('analogBoardsChanged', refreshBoards)
api.on('runsChanged', refreshHil)
api.on('jobProgress', (progress) => {
  analogBoards.onJobProgress(progress)
  if (!(HIL_KINDS as readonly string[]).includes(progress.kind) || !hil.visible) return
  if (ended(progress)) {
    reloadLive.delete(progress.runUuid)
    // The run's status changes with the end: list again, then read the final results.
    void hil.refresh().then(() => hil.load(progress.runUuid, true))
    return
  }
  let reload = reloadLive.get(progress.runUuid)
  if (!reload) reloadLive.set(progress.runUuid, (reload = coalesce(() => void hil.load(progress.runUuid, true), 500)))
  reload()
})

/** The live progress of a run, if its job is in this process. */
export function jobOf(uuid: string | null): JobProgress | undefined {
  return uuid ? jobs.byRun[uuid] : undefined
}

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
import { api, errorText, onReconnect } from '../lib/api.svelte.ts'
import { coalesce, coalesceEach } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'
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
  listing = new Resource(() => api.listAnalogBoards({}), { boards: [] as AnalogBoardStatus[], warning: null as string | null })
  list = $derived(this.listing.value.boards)
  /** Why port discovery found nothing (e.g. no udev in a container). */
  warning = $derived(this.listing.value.warning)
  loaded = $derived(this.listing.loaded)
  error = $derived(this.listing.error)
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
    await this.listing.reload()
    const boards = this.list
    if (!this.selected || !boards.some((b) => b.port === this.selected))
      this.selected = (boards.find((b) => b.state === 'connected') ?? boards[0])?.port ?? null
    if (this.selected) await this.loadCalibration(this.selected)
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
  return {
    model: '',
    board: d.board,
    layers: 'dense',
    limit: 1000,
    seed: d.seed,
    epochs: d.epochs,
    trainLimit: d.trainLimit,
    batchSize: d.batchSize,
    learningRate: d.learningRate,
  }
}

export type HilSpec =
  { kind: 'hil-evaluate'; params: z.output<typeof HilEvaluateParams> } | { kind: 'hil-finetune'; params: z.output<typeof HilFinetuneParams> }

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
  listing = new Resource(
    async () => {
      const [evaluations, finetunes, models] = await Promise.all([
        api.listRuns({ kind: 'hil-evaluate' }),
        api.listRuns({ kind: 'hil-finetune' }),
        api.listModels({}),
      ])
      return { runs: [...evaluations, ...finetunes].sort((a, b) => b.createdAt - a.createdAt), models }
    },
    { runs: [] as RunSummary[], models: [] as ModelInfo[] },
  )
  runs = $derived(this.listing.value.runs)
  models = $derived(this.listing.value.models)
  loaded = $derived(this.listing.loaded)
  listError = $derived(this.listing.error)
  /** One result per run asked for; null until the job has measured its first batch. */
  results = $state.raw<Record<string, Resource<HilResult | null>>>({})
  selected = $state<string | null>(null)
  startError = $state<string | null>(null)
  starting = $state(false)
  form = $state<HilForm>(defaultForm())

  selectedRun = $derived(this.runs.find((r) => r.uuid === this.selected) ?? null)
  selectedResult = $derived(this.selected ? this.resultOf(this.selected) : null)

  resultOf(uuid: string): HilResult | null {
    return this.results[uuid]?.value ?? null
  }

  /** Why a run shows no results: its first batch is still being measured, or what went wrong reading them. */
  pendingOf(uuid: string): { measuring: boolean; message: string | null } {
    const result = this.results[uuid]
    const live = isLive(this.runs.find((r) => r.uuid === uuid)?.status)
    return { measuring: live && !result?.error, message: result?.error ?? null }
  }

  async show(): Promise<void> {
    this.visible = true
    await Promise.all([this.refresh(), analogBoards.refresh()])
  }

  async refresh(): Promise<void> {
    await this.refreshList()
    await Promise.all(this.runs.slice(0, HISTORY_RESULTS).map((r) => this.load(r.uuid)))
    if (this.selected) await this.load(this.selected)
  }

  async refreshList(): Promise<void> {
    await this.listing.reload()
    if (!this.form.model || !this.models.some((m) => m.id === this.form.model)) this.form.model = this.models[0]?.id ?? ''
    if (!this.selected || !this.runs.some((r) => r.uuid === this.selected)) this.selected = this.runs[0]?.uuid ?? null
  }

  /** Fetches a run's results unless they are final already. */
  async load(uuid: string, force = false): Promise<void> {
    let result = this.results[uuid]
    if (!force && result?.value && !isLive(result.value.status) && !isLive(this.runs.find((r) => r.uuid === uuid)?.status)) return
    if (!result) {
      result = new Resource(async () => {
        try {
          return await api.getHil({ run: uuid })
        } catch (error) {
          // NOT_FOUND until the job reports its first measured batch: no results yet, not a failure.
          if (error instanceof BenchsideError && error.code === 'NOT_FOUND') return null
          throw error
        }
      }, null)
      this.results = { ...this.results, [uuid]: result }
    }
    await result.reload()
  }

  /** Whether the run's results are on screen (the history's newest, or the selected run). */
  shows(uuid: string): boolean {
    return uuid === this.selected || this.runs.slice(0, HISTORY_RESULTS).some((r) => r.uuid === uuid)
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
      this.selected = run.uuid
      await Promise.all([this.refreshList(), this.load(run.uuid)])
    } catch (error) {
      this.startError = errorText(error)
    } finally {
      this.starting = false
    }
  }
}

export const analogBoards = new AnalogBoardsState()
export const hil = new HilState()

const refreshBoards = coalesce(() => analogBoards.refresh(), 150)
const refreshHilList = coalesce(() => hil.visible && hil.refreshList(), 300)
// A HIL job rewrites its results after every measured batch: fetch them again at most twice a second per run.
const reloadResult = coalesceEach((uuid) => hil.visible && hil.load(uuid, true), 500)

api.on('analogBoardsChanged', refreshBoards)
api.on('jobProgress', (progress) => analogBoards.onJobProgress(progress))
onRunChanged((change) => {
  const { run } = change
  // Calibrations started from the CLI are not this process's jobs: their end shows through the feed.
  if (run.kind === 'analog-calibrate' && change.statusChanged && run.status === 'FINISHED') refreshBoards()
  // A finished training is a new model for the form.
  if (run.kind === 'train' && change.statusChanged && run.status === 'FINISHED') refreshHilList()
  if (!(HIL_KINDS as readonly string[]).includes(run.kind)) return
  if (change.statusChanged || !hil.runs.some((r) => r.uuid === run.uuid)) refreshHilList()
  if (hil.shows(run.uuid)) reloadResult(run.uuid)
})
onReconnect(() => {
  refreshBoards()
  if (hil.visible) void hil.refresh()
})

/** The live progress of a run, if its job is in this process. */
export function jobOf(uuid: string | null): JobProgress | undefined {
  return uuid ? jobs.byRun[uuid] : undefined
}

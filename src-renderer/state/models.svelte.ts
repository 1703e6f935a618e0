// Shared state of the Models & Data room: datasets, models with their newest evaluation, the training form, and which
// training run the Train tab follows (its detail comes through the change feed).
import {
  defaultRunName,
  metricNumber,
  trainFormIssues,
  trainGroupDefaults,
  TrainParams,
  type AnalogBoardStatus,
  type NoiseSchedule,
  type TrainAnalog,
  type TrainNoise,
  type TrainQat,
  type ArchitectureInfo,
  type DatasetDetail,
  type DatasetInfo,
  type InjectionPointInfo,
  type ModelDetail,
  type ModelEvaluation,
  type ModelInfo,
  type RunDetail,
  type RunSummary,
} from '../../src-main/contract/index.ts'
import type { z } from 'zod'
import { api, errorText, onReconnect, webMode } from '../lib/api.svelte.ts'
import { coalesce } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { uploadForImport, type UploadItem } from '../lib/upload.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'
import { ImportJob } from './import-job.svelte.ts'

export type ModelsTab = 'datasets' | 'models' | 'train'
export type Architecture = z.infer<typeof ArchitectureInfo>
export type TrainForm = z.output<typeof TrainParams>

/**
 * What an import form gives: a server path (Electron), or files picked in a web page with the one the import opens
 * (null: the folder they were uploaded to).
 */
export type ImportSource = string | { items: UploadItem[]; open: string | null }

/** The server path an import reads: the path typed, or where the picked files were uploaded to. */
function sourcePath(source: ImportSource): Promise<string> {
  return typeof source === 'string' ? Promise.resolve(source) : uploadForImport(source.items, source.open)
}

const LIVE = ['SCHEDULED', 'RUNNING']

/**
 * The optional groups of the training form: each is sent only when switched on. σ starts empty (the schema has no
 * default for it); how σ changes is one choice of three, which sets the schema's rampEpochs and theta.
 */
export interface TrainGroups {
  noiseOn: boolean
  noise: Omit<TrainNoise, 'sigma' | 'points'> & { sigma: number | null; schedule: NoiseSchedule; pointsMode: 'global' | 'chosen'; chosen: string[] }
  qatOn: boolean
  qat: TrainQat
  analogOn: boolean
  analog: Omit<TrainAnalog, 'layers' | 'device'> & { layers: 'dense' | 'all'; device: string }
}

function groupDefaults(): TrainGroups {
  const d = trainGroupDefaults()
  const { points: _points, ...noise } = d.noise
  return {
    noiseOn: false,
    noise: { ...noise, rampEpochs: Math.max(1, noise.rampEpochs), theta: noise.theta, sigma: null, schedule: 'constant', pointsMode: 'global', chosen: [] },
    qatOn: false,
    qat: d.qat,
    analogOn: false,
    analog: { integration: d.analog.integration, fill: d.analog.fill, layers: 'dense', device: '' },
  }
}

/** An emptied number input binds null (or NaN): send undefined so the schema names the field. */
function numberOrUndefined(value: number | null | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** The train job's params as the form says them (unchecked: the contract's schema checks them). */
export function trainParamsOf(form: TrainForm, groups: TrainGroups): Record<string, unknown> {
  const basic: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(form)) {
    if (key === 'noise' || key === 'qat' || key === 'analog') continue
    basic[key] = typeof value === 'number' || value === null ? numberOrUndefined(value) : value
  }
  const n = groups.noise
  return {
    ...basic,
    noise: groups.noiseOn
      ? {
          model: n.model,
          points: n.pointsMode === 'global' ? 'global' : n.chosen,
          sigma: numberOrUndefined(n.sigma),
          theta: n.schedule === 'per-sample' ? numberOrUndefined(n.theta) : 0,
          rampEpochs: n.schedule === 'ramp' ? numberOrUndefined(n.rampEpochs) : 0,
        }
      : undefined,
    qat: groups.qatOn
      ? Object.fromEntries(Object.entries(groups.qat).map(([k, v]) => [k, typeof v === 'number' || v === null ? numberOrUndefined(v) : v]))
      : undefined,
    analog: groups.analogOn
      ? {
          integration: groups.analog.integration,
          fill: numberOrUndefined(groups.analog.fill),
          layers: groups.analog.layers,
          device: groups.analog.device || undefined,
        }
      : undefined,
  }
}

export function lastMetric(run: RunDetail, key: string): number | null {
  let last: number | null = null
  for (const m of run.metrics) if (m.key === key) last = metricNumber(m.value)
  return last
}

export function isLive(run: { status: string } | null): boolean {
  return run !== null && LIVE.includes(run.status)
}

class ModelsState {
  tab = $state<ModelsTab>('datasets')
  /** Whether the room is on screen; change events refresh it only then (showing it reloads everything). */
  visible = false

  datasets = new Resource(() => api.listDatasets({}), [] as DatasetInfo[])
  selectedDataset = $state<string | null>(null)
  dataset = new Resource<DatasetDetail | null>(
    () => (this.selectedDataset ? api.getDataset({ id: this.selectedDataset, samplesPerClass: 3 }) : Promise.resolve(null)),
    null,
  )

  architectures = new Resource(() => api.listArchitectures({}), [] as Architecture[])

  models = new Resource(() => api.listModels({}), [] as ModelInfo[])
  selectedModel = $state<string | null>(null)
  /** The selected model and, for a trained one, its training run (for its curves). */
  model = new Resource<{ detail: ModelDetail; run: RunDetail | null } | null>(async () => {
    const id = this.selectedModel
    if (!id) return null
    const trained = this.models.value.find((m) => m.id === id)?.source === 'trained'
    // A trained model's run has its curves; in web mode any model's run lists the files its export downloads.
    const [detail, run] = await Promise.all([api.getModel({ model: id }), trained || webMode ? api.getRun({ run: id }) : Promise.resolve(null)])
    return { detail, run }
  }, null)
  /** The selected model's newest evaluation (a later evaluate run, else its training's test split). */
  evaluation = new Resource<ModelEvaluation | null>(
    () => (this.selectedModel ? api.getModelEvaluation({ model: this.selectedModel }) : Promise.resolve(null)),
    null,
  )
  /** The evaluate run started from this view for the selected model, until it ends. */
  evaluating = $state<{ model: string; run: string } | null>(null)
  evaluationError = $state<string | null>(null)

  form = $state<TrainForm>({ ...TrainParams.parse({}) })
  groups = $state<TrainGroups>(groupDefaults())
  /** The analog boards, for the analog group's calibrated devices (fetched when the group is switched on). */
  analogBoards = new Resource<AnalogBoardStatus[]>(async () => (await api.listAnalogBoards({})).boards, [])
  runName = $state('')
  preview = new Resource<InjectionPointInfo[]>(() => api.describeArchitecture({ architecture: this.form.architecture, dataset: this.form.dataset }), [])
  startError = $state<string | null>(null)
  /** The training run the Train tab follows: the newest one, usually the last started here. */
  training = $state<RunSummary | null>(null)

  async loadAll(): Promise<void> {
    await Promise.all([this.refreshDatasets(), this.architectures.reload(), this.refreshModels(), this.findLatestTraining()])
  }

  async refreshDatasets(): Promise<void> {
    await this.datasets.reload()
    const list = this.datasets.value
    const chosen = this.selectedDataset && list.some((d) => d.id === this.selectedDataset) ? this.selectedDataset : list[0]?.id
    if (chosen && chosen !== this.selectedDataset) await this.selectDataset(chosen)
  }

  async selectDataset(id: string): Promise<void> {
    this.selectedDataset = id
    await this.dataset.reload()
  }

  /** A dataset import started from the Datasets tab: once it finishes, the new dataset is listed and selected. */
  datasetImport = new ImportJob('dataset-import', async (result) => {
    await this.refreshDatasets()
    await this.selectDataset(result.id)
  })

  /** Starts a dataset-import job; false when it could not start (the reason is in datasetImport.error). */
  /** `source`: a path on the server (Electron), or files picked in a web page, uploaded first. */
  importDataset(source: ImportSource, name: string): Promise<boolean> {
    return this.datasetImport.start(async () => api.importDataset({ path: await sourcePath(source), name: name.trim() || undefined }))
  }

  async refreshModels(): Promise<void> {
    await this.models.reload()
    if (this.selectedModel) await this.evaluation.reload()
  }

  async selectModel(id: string | null): Promise<void> {
    this.selectedModel = id
    this.model.reset()
    this.evaluation.reset()
    this.evaluationError = null
    if (id) await Promise.all([this.model.reload(), this.evaluation.reload()])
  }

  async evaluate(model: string, dataset: string | undefined, split: 'test' | 'train'): Promise<void> {
    const info = this.models.value.find((m) => m.id === model)
    const run = await api.startJob({
      kind: 'evaluate',
      params: { model, dataset, split },
      name: `evaluate ${info?.name ?? model.slice(0, 8)} (${split})`,
    })
    this.evaluating = { model, run: run.uuid }
    this.evaluationError = null
  }

  /** A model import started from the Models tab: its run is the model, selected once it is listed. */
  modelImport = new ImportJob('model-import', async (_, run) => {
    await this.refreshModels()
    await this.selectModel(run)
  })

  importModel({ source, ...args }: { source: ImportSource; architecture?: string; dataset?: string; name?: string }): Promise<boolean> {
    return this.modelImport.start(async () => api.importModel({ ...args, path: await sourcePath(source) }))
  }

  /** The form's params and what the contract's schema says about them (the CLI's checks, as sentences). */
  trainParams(): { params: Record<string, unknown>; issues: { path: string; message: string }[] } {
    const params = trainParamsOf(this.form, this.groups)
    return { params, issues: trainFormIssues(params) }
  }

  /** The name the run gets when none is typed (the jobs service names it the same way). */
  defaultRunName(): string {
    const { params, issues } = this.trainParams()
    if (issues.length) return ''
    const modelsById = new Map(this.models.value.map((m) => [m.id, m.name]))
    return defaultRunName({ kind: 'train', params: TrainParams.parse(params) }, (id) => modelsById.get(id) ?? null)
  }

  async startTraining(): Promise<void> {
    const { params, issues } = this.trainParams()
    if (issues.length) {
      this.startError = issues.map((i) => i.message).join(' ')
      return
    }
    try {
      const run = await api.startJob({ kind: 'train', params: TrainParams.parse(params), name: this.runName.trim() || undefined })
      this.startError = null
      this.training = run
    } catch (error) {
      this.startError = errorText(error)
    }
  }

  /** A training run changed or appeared: the Train tab follows it when it is the newest. */
  noticeTraining(run: RunSummary): void {
    if (!this.training || this.training.uuid === run.uuid || run.createdAt >= this.training.createdAt) this.training = run
  }

  /** Follows the newest training run (started here, from the CLI, or before a reload). */
  async findLatestTraining(): Promise<void> {
    try {
      const [newest] = await api.listRuns({ kind: 'train', limit: 1 })
      if (newest) this.noticeTraining(newest)
    } catch (error) {
      this.startError = errorText(error)
    }
  }

  /** The model deleted last from this view, for its undo. */
  deleted = $state<{ id: string; name: string } | null>(null)
  manageError = $state<string | null>(null)

  async renameModel(id: string, name: string): Promise<boolean> {
    try {
      await api.renameModel({ model: id, name })
      this.manageError = null
      await this.refreshModels()
      return true
    } catch (error) {
      this.manageError = errorText(error)
      return false
    }
  }

  /** Deletes a model (its run is soft-deleted); `restoreDeleted` brings it back. */
  async deleteModel(id: string): Promise<void> {
    const name = this.models.value.find((m) => m.id === id)?.name ?? id.slice(0, 8)
    try {
      await api.deleteModel({ model: id })
      this.manageError = null
      this.deleted = { id, name }
      if (this.selectedModel === id) await this.selectModel(null)
      await this.refreshModels()
    } catch (error) {
      this.manageError = errorText(error)
    }
  }

  async restoreDeleted(): Promise<void> {
    const deleted = this.deleted
    if (!deleted) return
    try {
      await api.restoreRun({ run: deleted.id })
      this.deleted = null
      await this.refreshModels()
      await this.selectModel(deleted.id)
    } catch (error) {
      this.manageError = errorText(error)
    }
  }

  async openModel(id: string): Promise<void> {
    this.tab = 'models'
    if (!this.models.value.some((m) => m.id === id)) await this.refreshModels()
    await this.selectModel(id)
  }
}

export const models = new ModelsState()

const refreshModels = coalesce(() => models.visible && models.refreshModels(), 250)
const refreshDatasets = coalesce(() => models.visible && models.refreshDatasets(), 250)
const refreshEvaluation = coalesce(() => models.visible && models.selectedModel && models.evaluation.reload(), 250)

onRunChanged((change) => {
  const { run, statusChanged } = change
  if (run.kind === 'train') models.noticeTraining(run)
  // A training or model import that finished is a new model; a record change of a finished one (deleted, restored)
  // changes the list. Imports finished from the CLI show up here too.
  if ((run.kind === 'train' || run.kind === 'model-import') && run.status === 'FINISHED' && (statusChanged || change.metricsSince === null)) refreshModels()
  if (run.kind === 'dataset-import' && run.status === 'FINISHED' && statusChanged) refreshDatasets()
  // An evaluation that finished (here or from the CLI) may be the selected model's newest.
  if (run.kind === 'evaluate' && statusChanged && run.status === 'FINISHED') refreshEvaluation()
})
onReconnect(() => {
  if (!models.visible) return
  void models.loadAll()
})
api.on('jobProgress', (progress) => {
  const evaluating = models.evaluating
  if (evaluating?.run !== progress.runUuid || progress.state === 'queued' || progress.state === 'running') return
  models.evaluating = null
  if (evaluating.model !== models.selectedModel) return
  // A finished evaluation shows through the change feed (above); an ended one says why here.
  if (progress.state !== 'finished')
    models.evaluationError = `The evaluation ${progress.state === 'killed' ? 'was cancelled' : `failed: ${progress.message.replace(/\.$/, '') || 'see its run in Runs'}`}.`
})

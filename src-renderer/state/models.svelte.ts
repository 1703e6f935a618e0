// Shared state of the Models & Data room: datasets, models with their newest evaluation, the training form, and which
// training run the Train tab follows (its detail comes through the change feed).
import {
  metricNumber,
  TrainParams,
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
/** The numeric fields of the training form (an emptied number input binds null). */
const NUMBER_FIELDS: [keyof TrainForm & ('epochs' | 'batchSize' | 'learningRate' | 'seed' | 'validationFraction' | 'patience'), string][] = [
  ['epochs', 'Epochs'],
  ['batchSize', 'Batch size'],
  ['learningRate', 'Learning rate'],
  ['seed', 'Seed'],
  ['validationFraction', 'Validation share'],
  ['patience', 'Patience'],
]

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

  defaultRunName(): string {
    const f = this.form
    return `${f.architecture} on ${f.dataset}, ${f.epochs} epoch${f.epochs === 1 ? '' : 's'}`
  }

  async startTraining(): Promise<void> {
    for (const [key, label] of NUMBER_FIELDS) {
      if (!Number.isFinite(this.form[key])) {
        this.startError = `Give a number for ${label}.`
        return
      }
    }
    try {
      const run = await api.startJob({ kind: 'train', params: { ...this.form }, name: this.runName.trim() || this.defaultRunName() })
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

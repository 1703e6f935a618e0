// Shared state of the Models & Data room: datasets, models, the training form and the training run it follows.
import {
  TrainParams,
  type ArchitectureInfo,
  type DatasetDetail,
  type DatasetInfo,
  type InjectionPointInfo,
  type ModelDetail,
  type ModelInfo,
  type RunDetail,
} from '../../src-main/contract/index.ts'
import type { z } from 'zod'
import { api, errorText } from '../lib/api.svelte.ts'

export type ModelsTab = 'datasets' | 'models' | 'train'
export type Architecture = z.infer<typeof ArchitectureInfo>
export type TrainForm = z.output<typeof TrainParams>

export interface Confusion {
  classNames: string[]
  /** confusion[true][predicted] */
  confusion: number[][]
}

/** Where a shown confusion matrix comes from: the model's latest evaluation, or its training run's test split. */
export interface ConfusionSource {
  run: string
  kind: 'evaluate' | 'train'
  name: string
  dataset: string
  split: string
  accuracy: number | null
  backend: string | null
  time: number | null
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
/** How many of the newest evaluate runs are searched for a model's latest evaluation. */
const EVALUATIONS_SEARCHED = 25

function parseConfusion(text: string): Confusion {
  const value: unknown = JSON.parse(text)
  const c = value as Partial<Confusion> | null
  const ok =
    c !== null &&
    Array.isArray(c.classNames) &&
    Array.isArray(c.confusion) &&
    c.confusion.length === c.classNames.length &&
    c.confusion.every((row) => Array.isArray(row) && row.length === c.classNames!.length && row.every((v) => typeof v === 'number'))
  if (!ok) throw new Error('The confusion.json of this run is not a square matrix with class names.')
  return c as Confusion
}

export function lastMetric(run: RunDetail, key: string): number | null {
  let last: number | null = null
  for (const m of run.metrics) if (m.key === key) last = m.value
  return last
}

export function isLive(run: { status: string } | null): boolean {
  return run !== null && LIVE.includes(run.status)
}

class ModelsState {
  tab = $state<ModelsTab>('datasets')
  /** Whether the room is on screen; change events refresh it only then (showing it reloads everything). */
  visible = false

  datasets = $state<DatasetInfo[]>([])
  datasetsLoaded = $state(false)
  datasetsError = $state<string | null>(null)
  selectedDataset = $state<string | null>(null)
  dataset = $state<DatasetDetail | null>(null)
  datasetError = $state<string | null>(null)

  architectures = $state<Architecture[]>([])

  models = $state<ModelInfo[]>([])
  modelsLoaded = $state(false)
  modelsError = $state<string | null>(null)
  selectedModel = $state<string | null>(null)
  model = $state<ModelDetail | null>(null)
  modelError = $state<string | null>(null)
  /** The training run of the selected model (for its curves); null for imported models. */
  modelRun = $state<RunDetail | null>(null)
  confusion = $state<Confusion | null>(null)
  confusionSource = $state<ConfusionSource | null>(null)
  confusionError = $state<string | null>(null)
  /** The evaluate run started from this view for the selected model, until it ends. */
  evaluating = $state<{ model: string; run: string } | null>(null)
  evaluationError = $state<string | null>(null)

  form = $state<TrainForm>({ ...TrainParams.parse({}) })
  runName = $state('')
  preview = $state<InjectionPointInfo[]>([])
  previewError = $state<string | null>(null)
  startError = $state<string | null>(null)
  /** The training run the Train tab follows: the newest one, usually the last started here. */
  training = $state<RunDetail | null>(null)

  private evaluationsSeen = ''

  async loadAll(): Promise<void> {
    await Promise.all([this.refreshDatasets(), this.refreshArchitectures(), this.refreshModels(), this.findLatestTraining()])
  }

  async refreshDatasets(): Promise<void> {
    try {
      this.datasets = await api.listDatasets({})
      this.datasetsError = null
      const chosen = this.selectedDataset && this.datasets.some((d) => d.id === this.selectedDataset) ? this.selectedDataset : this.datasets[0]?.id
      if (chosen && chosen !== this.selectedDataset) await this.selectDataset(chosen)
    } catch (error) {
      this.datasetsError = errorText(error)
    } finally {
      this.datasetsLoaded = true
    }
  }

  async selectDataset(id: string): Promise<void> {
    this.selectedDataset = id
    this.datasetError = null
    try {
      const detail = await api.getDataset({ id, samplesPerClass: 3 })
      if (this.selectedDataset === id) this.dataset = detail
    } catch (error) {
      if (this.selectedDataset === id) this.datasetError = errorText(error)
    }
  }

  async importDataset(path: string, name: string): Promise<DatasetInfo> {
    const info = await api.importDataset({ path, name: name.trim() || undefined })
    await this.refreshDatasets()
    await this.selectDataset(info.id)
    return info
  }

  async refreshArchitectures(): Promise<void> {
    try {
      this.architectures = await api.listArchitectures({})
    } catch (error) {
      this.previewError = errorText(error)
    }
  }

  async refreshModels(): Promise<void> {
    try {
      this.models = await api.listModels({})
      this.modelsError = null
      if (this.selectedModel) await this.refreshConfusion()
    } catch (error) {
      this.modelsError = errorText(error)
    } finally {
      this.modelsLoaded = true
    }
  }

  async selectModel(id: string | null): Promise<void> {
    this.selectedModel = id
    this.model = null
    this.modelRun = null
    this.modelError = null
    this.confusion = null
    this.confusionSource = null
    this.confusionError = null
    this.evaluationError = null
    this.evaluationsSeen = ''
    if (!id) return
    const info = this.models.find((m) => m.id === id)
    try {
      const [detail, run] = await Promise.all([api.getModel({ model: id }), info?.source === 'trained' ? api.getRun({ run: id }) : Promise.resolve(null)])
      if (this.selectedModel !== id) return
      this.model = detail
      this.modelRun = run
    } catch (error) {
      if (this.selectedModel === id) this.modelError = errorText(error)
    }
    await this.refreshConfusion()
  }

  /** Shows the confusion matrix of the selected model's newest finished evaluation, else of its training run. */
  async refreshConfusion(): Promise<void> {
    const id = this.selectedModel
    if (!id) return
    try {
      const evaluations = await api.listRuns({ kind: 'evaluate', status: 'FINISHED' })
      const seen = `${id}|${evaluations.map((r) => r.uuid).join(',')}`
      if (seen === this.evaluationsSeen) return
      let source: ConfusionSource | null = null
      for (const summary of evaluations.slice(0, EVALUATIONS_SEARCHED)) {
        const run = await api.getRun({ run: summary.uuid })
        const model = run.params.model ?? ''
        if (model.length < 4 || !id.startsWith(model.toLowerCase())) continue
        if (!run.artifacts.some((a) => a.path === 'confusion.json')) continue
        source = {
          run: run.uuid,
          kind: 'evaluate',
          name: run.name,
          dataset: run.params.dataset ?? this.models.find((m) => m.id === id)?.dataset ?? 'its dataset',
          split: run.params.split ?? 'test',
          accuracy: lastMetric(run, 'accuracy'),
          backend: run.params.backend ?? null,
          time: run.endTime,
        }
        break
      }
      if (!source) {
        const info = this.models.find((m) => m.id === id)
        if (info?.source === 'trained') {
          const run = this.modelRun?.uuid === id ? this.modelRun : await api.getRun({ run: id })
          if (run.artifacts.some((a) => a.path === 'confusion.json')) {
            source = {
              run: id,
              kind: 'train',
              name: run.name,
              dataset: run.params.dataset ?? info.dataset,
              split: 'test',
              accuracy: lastMetric(run, 'test_accuracy'),
              backend: run.params.backend ?? null,
              time: run.endTime,
            }
          }
        }
      }
      const confusion = source ? parseConfusion((await api.readArtifact({ run: source.run, path: 'confusion.json' })).text) : null
      if (this.selectedModel !== id) return
      this.evaluationsSeen = seen
      this.confusion = confusion
      this.confusionSource = source
      this.confusionError = null
    } catch (error) {
      if (this.selectedModel === id) this.confusionError = errorText(error)
    }
  }

  async evaluate(model: string, dataset: string | undefined, split: 'test' | 'train'): Promise<void> {
    const info = this.models.find((m) => m.id === model)
    const run = await api.startJob({
      kind: 'evaluate',
      params: { model, dataset, split },
      name: `evaluate ${info?.name ?? model.slice(0, 8)} (${split})`,
    })
    this.evaluating = { model, run: run.uuid }
    this.evaluationError = null
  }

  async importModel(args: { path: string; architecture?: string; dataset?: string; name?: string }): Promise<ModelInfo> {
    const info = await api.importModel(args)
    await this.refreshModels()
    return info
  }

  async loadPreview(): Promise<void> {
    const { architecture, dataset } = this.form
    try {
      const points = await api.describeArchitecture({ architecture, dataset })
      if (this.form.architecture === architecture && this.form.dataset === dataset) {
        this.preview = points
        this.previewError = null
      }
    } catch (error) {
      if (this.form.architecture === architecture && this.form.dataset === dataset) {
        this.preview = []
        this.previewError = errorText(error)
      }
    }
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
      await this.followTraining(run.uuid)
    } catch (error) {
      this.startError = errorText(error)
    }
  }

  async followTraining(uuid: string): Promise<void> {
    try {
      const run = await api.getRun({ run: uuid })
      if (!this.training || this.training.uuid === uuid || run.createdAt >= this.training.createdAt) this.training = run
    } catch (error) {
      this.startError = errorText(error)
    }
  }

  /** Follows the newest training run (started here, from the CLI, or before a reload). */
  async findLatestTraining(): Promise<void> {
    try {
      const [newest] = await api.listRuns({ kind: 'train', limit: 1 })
      if (newest) await this.followTraining(newest.uuid)
    } catch (error) {
      this.startError = errorText(error)
    }
  }

  async openModel(id: string): Promise<void> {
    this.tab = 'models'
    if (!this.models.some((m) => m.id === id)) await this.refreshModels()
    await this.selectModel(id)
  }
}

export const models = new ModelsState()

// Jobs write many changes in bursts; coalesce them into one refresh of what this room shows.
let pending: ReturnType<typeof setTimeout> | null = null
api.on('runsChanged', () => {
  if (!models.visible) return
  pending ??= setTimeout(() => {
    pending = null
    void models.refreshModels()
    void models.findLatestTraining()
  }, 250)
})
api.on('jobProgress', (progress) => {
  const evaluating = models.evaluating
  if (evaluating?.run !== progress.runUuid || progress.state === 'queued' || progress.state === 'running') return
  models.evaluating = null
  if (evaluating.model !== models.selectedModel) return
  if (progress.state === 'finished') void models.refreshConfusion()
  else models.evaluationError = `The evaluation ${progress.state === 'killed' ? 'was cancelled' : `failed: ${progress.message.replace(/\.$/, '') || 'see its run in Runs'}`}.`
})

// Uncertainty room state: the chosen model, the three job forms (ensemble, evaluation, active learning), the model's
// uncertainty runs with their summary metrics, the selected evaluation's result and the active-learning curves, all
// kept current through the change feed.
import {
  ActiveLearningParams,
  BenchsideError,
  EnsembleTrainParams,
  UncertaintyEvaluateParams,
  UncertaintySummary,
  type Acquisition,
  type ActiveLearningResult,
  type DatasetInfo,
  type InjectionPointInfo,
  type ModelInfo,
  type RunColumn,
  type RunResult,
  type RunRow,
  type UncertaintyEvaluateResult,
  resultOfKind,
} from '../../src-main/contract/index.ts'
import { api, errorText, onReconnect } from '../lib/api.svelte.ts'
import { coalesce, coalesceEach } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { StartedJob } from '../lib/started-job.svelte.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'

export const ENSEMBLE_KIND = 'ensemble-train' as const
export const EVALUATE_KIND = 'uncertainty-evaluate' as const
export const ACTIVE_KIND = 'active-learning' as const
const UNCERTAINTY_KINDS: readonly string[] = [ENSEMBLE_KIND, EVALUATE_KIND, ACTIVE_KIND]
/** Kinds whose finished run is a new model for the picker. */
const MODEL_KINDS: readonly string[] = ['train', 'model-import', 'compression-apply']

export const ACQUISITIONS: readonly Acquisition[] = ['bald', 'entropy', 'margin', 'random']
/** The OOD dataset the contract defaults to (handwritten digits, the natural OOD set for Fashion-MNIST). */
// The contract's default OOD set (the field may also be null: no OOD set).
const DEFAULT_OOD = EnsembleTrainParams.shape.oodDataset.parse(undefined) ?? 'mnist-digits-subset'

export const isLive = (status: string | null | undefined): boolean => status === 'RUNNING' || status === 'SCHEDULED'

/** The params the runs list and the metrics table read, in the order of each row's values. */
const PARAM_KEYS = [
  'model',
  'ensemble',
  'method',
  'heads',
  'repulsion',
  'form',
  'samples',
  'repulsionWeight',
  'oodDataset',
  'limit',
  'noise',
  'analog',
  'acquire',
  'rounds',
] as const
export type ParamKey = (typeof PARAM_KEYS)[number]
/** Every scalar metric an ensemble-train or uncertainty-evaluate run logs (at step 0), as the contract's summary names them. */
export const SUMMARY_KEYS = Object.keys(UncertaintySummary.shape) as (keyof UncertaintySummary)[]
const COLUMNS: RunColumn[] = [...PARAM_KEYS.map((key) => ({ kind: 'param' as const, key })), ...SUMMARY_KEYS.map((key) => ({ kind: 'metric' as const, key }))]

export function paramOf(row: RunRow, key: ParamKey): string | null {
  const value = row.values[PARAM_KEYS.indexOf(key)]
  return value === null || value === undefined ? null : String(value)
}

export function metricOf(row: RunRow, key: keyof UncertaintySummary): number | null {
  const value = row.values[PARAM_KEYS.length + SUMMARY_KEYS.indexOf(key)]
  return typeof value === 'number' ? value : null
}

/** Quotes a value for the run query language (docs/run-query.md). */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

/** Splits ids into groups small enough for one query (a `where` holds at most 2,000 characters). */
function groups<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))
}

// ---- the forms ----

export interface EnsembleForm {
  method: EnsembleTrainParams['method']
  heads: number | null
  repulsion: EnsembleTrainParams['repulsion']
  form: EnsembleTrainParams['form']
  samples: EnsembleTrainParams['samples']
  oodDataset: string
  repulsionWeight: number | null
  epochs: number | null
  learningRate: number | null
  /** null: the whole training split. */
  trainSamples: number | null
}

export interface EvaluateForm {
  /** An ensemble-train run of the model, or the model itself (an ensemble of one). */
  ensemble: string
  /** '' for none. */
  oodDataset: string
  /** null: the whole test split. */
  limit: number | null
  bins: number | null
  noise: boolean
  point: string
  sigmas: string
  /** How the body runs: in float, or on the nominal analog model (its dense layers, or every layer). */
  body: 'float' | 'dense' | 'all'
}

export interface ActiveForm {
  acquire: Acquisition
  initial: number | null
  perRound: number | null
  rounds: number | null
  heads: number | null
  /** Gradient steps per round (the labelled set is small, so rounds are sized in steps). */
  steps: number | null
  learningRate: number | null
  /** null: the whole training split. */
  pool: number | null
}

function defaultEnsembleForm(): EnsembleForm {
  const d = EnsembleTrainParams.parse({ model: 'x' })
  return {
    method: d.method,
    heads: d.heads,
    repulsion: d.repulsion,
    form: d.form,
    samples: d.samples,
    oodDataset: d.oodDataset ?? DEFAULT_OOD,
    repulsionWeight: d.repulsionWeight,
    epochs: d.epochs,
    learningRate: d.learningRate,
    trainSamples: d.trainSamples,
  }
}

function defaultEvaluateForm(): EvaluateForm {
  const d = UncertaintyEvaluateParams.parse({ ensemble: 'x' })
  return { ensemble: '', oodDataset: d.oodDataset ?? '', limit: d.limit, bins: d.bins, noise: false, point: 'global', sigmas: '0.1, 0.3, 1, 3', body: 'float' }
}

function defaultActiveForm(): ActiveForm {
  const d = ActiveLearningParams.parse({ model: 'x' })
  return {
    acquire: d.acquire,
    initial: d.initial,
    perRound: d.perRound,
    rounds: d.rounds,
    heads: d.heads,
    steps: d.steps,
    learningRate: d.learningRate,
    pool: d.pool,
  }
}

/** The forms' words for the contract's fields, so a rejected value is named as the form names it. */
const FIELD_LABELS: Record<string, string> = {
  heads: 'Heads',
  repulsionWeight: 'Repulsion weight',
  epochs: 'Epochs',
  learningRate: 'Learning rate',
  trainSamples: 'Train samples',
  oodDataset: 'OOD dataset',
  limit: 'Test samples',
  bins: 'Bins',
  'noise.sigmas': 'Noise σ',
  'noise.point': 'Noise point',
  initial: 'Initial labelled',
  perRound: 'Per round',
  rounds: 'Rounds',
  steps: 'Steps per round',
  pool: 'Pool',
}

function required<F>(form: F, keys: (keyof F & string)[]): void {
  for (const key of keys) if (!Number.isFinite(form[key])) throw new Error(`Give a number for ${FIELD_LABELS[key] ?? key}.`)
}

function checked<T>(result: { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } }): T {
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const path = issue.path.filter((p) => typeof p === 'string').join('.')
  throw new Error(`${FIELD_LABELS[path] ?? path}: ${issue.message.replace(/\.$/, '')}.`)
}

/** The ensemble form as job parameters, or an Error whose message names the field as the form does. */
export function ensembleParams(model: string, form: EnsembleForm): EnsembleTrainParams {
  if (!model) throw new Error('Choose a model: the ensemble is trained on its body (or its architecture, for a deep ensemble).')
  required(form, ['heads', 'repulsionWeight', 'epochs', 'learningRate'])
  return checked(
    EnsembleTrainParams.safeParse({
      model,
      method: form.method,
      heads: form.heads,
      repulsion: form.repulsion,
      form: form.form,
      samples: form.samples,
      oodDataset: form.oodDataset,
      repulsionWeight: form.repulsionWeight,
      epochs: form.epochs,
      learningRate: form.learningRate,
      trainSamples: form.trainSamples,
    }),
  )
}

function numberList(text: string, label: string): number[] {
  return text
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map((token) => {
      const value = Number(token)
      if (!Number.isFinite(value)) throw new Error(`${label}: “${token}” is not a number. Give numbers separated by commas, e.g. 0.1, 0.3, 1.`)
      return value
    })
}

export function evaluateParams(form: EvaluateForm): UncertaintyEvaluateParams {
  if (!form.ensemble) throw new Error('Choose what to evaluate: an ensemble of the model, or the model itself.')
  required(form, ['bins'])
  const sigmas = form.noise ? numberList(form.sigmas, 'Noise σ') : []
  if (form.noise && sigmas.length === 0) throw new Error('Noise σ: give at least one σ (σ = 0 is always added), e.g. 0.1, 0.3, 1.')
  return checked(
    UncertaintyEvaluateParams.safeParse({
      ensemble: form.ensemble,
      oodDataset: form.oodDataset || null,
      limit: form.limit,
      bins: form.bins,
      noise: form.noise ? { point: form.point, sigmas } : undefined,
      analog: form.body === 'float' ? undefined : { layers: form.body },
    }),
  )
}

export function activeParams(model: string, form: ActiveForm): ActiveLearningParams {
  if (!model) throw new Error('Choose a model: active learning trains heads on its body.')
  required(form, ['initial', 'perRound', 'rounds', 'heads', 'steps', 'learningRate'])
  const params = checked(
    ActiveLearningParams.safeParse({
      model,
      acquire: form.acquire,
      initial: form.initial,
      perRound: form.perRound,
      rounds: form.rounds,
      heads: form.heads,
      steps: form.steps,
      learningRate: form.learningRate,
      pool: form.pool,
    }),
  )
  // The job would fail on it after loading everything; say so before it starts.
  if (params.pool !== null && params.initial + params.rounds * params.perRound > params.pool)
    throw new Error(
      `Pool: ${params.initial} initial + ${params.rounds} rounds × ${params.perRound} = ${params.initial + params.rounds * params.perRound} labels exceed the pool of ${params.pool}; use fewer rounds or a larger pool.`,
    )
  return params
}

// ---- results ----

/**
 * A run's result, or null while the job has reported none. A running uncertainty job that has reported nothing yet is
 * read by the service as an unreadable result (CONFLICT) rather than as none: while the run is live, that means none.
 */
async function runResult(run: string, live: boolean): Promise<RunResult | null> {
  try {
    return await api.getRunResult({ run })
  } catch (error) {
    if (live && error instanceof BenchsideError && error.code === 'CONFLICT') return null
    throw error
  }
}

async function evaluationResult(run: string, live: boolean): Promise<UncertaintyEvaluateResult | null> {
  const answer = await runResult(run, live)
  return answer && resultOfKind(answer, EVALUATE_KIND)
}

async function activeResult(run: string, live: boolean): Promise<ActiveLearningResult | null> {
  const answer = await runResult(run, live)
  return answer && resultOfKind(answer, ACTIVE_KIND)
}

class UncertaintyState {
  /** Whether the room is on screen; change events refresh it only then (showing it reloads everything). */
  visible = false
  model = $state('')

  catalogs = new Resource(
    async () => {
      const [models, datasets] = await Promise.all([api.listModels({}), api.listDatasets({})])
      return { models, datasets }
    },
    { models: [] as ModelInfo[], datasets: [] as DatasetInfo[] },
  )
  models = $derived(this.catalogs.value.models)
  chosenModel = $derived(this.models.find((m) => m.id === this.model) ?? null)
  catalogError = $derived(this.catalogs.error && `The models and datasets did not load: ${this.catalogs.error}`)
  /** Datasets whose samples have the shape of the model's dataset (an OOD set must), the model's own excluded. */
  oodDatasets = $derived.by(() => {
    const datasets = this.catalogs.value.datasets
    const own = datasets.find((d) => d.id === this.chosenModel?.dataset)
    if (!own) return datasets.filter((d) => d.id !== this.chosenModel?.dataset)
    return datasets.filter((d) => d.id !== own.id && d.sampleShape.join() === own.sampleShape.join())
  })
  /** The model's injection points noise can go to: the body's (the classifier is the heads'), reshapes left out. */
  points = new Resource<InjectionPointInfo[]>(async () => {
    const model = this.model
    if (!model) return []
    const detail = await api.getModel({ model })
    return detail.points.slice(0, -1).filter((p) => p.op !== 'flatten' && p.op !== 'input')
  }, [])

  ensembleForm = $state<EnsembleForm>(defaultEnsembleForm())
  evaluateForm = $state<EvaluateForm>(defaultEvaluateForm())
  activeForm = $state<ActiveForm>(defaultActiveForm())
  // A finished ensemble is what one evaluates next: the evaluation form takes it.
  ensembleJob = new StartedJob((uuid) => (this.evaluateForm.ensemble = uuid))
  evaluateJob = new StartedJob()
  activeJob = new StartedJob()

  /** The model's ensemble-train and active-learning runs and the evaluations of it and its ensembles, newest first. */
  listing = new Resource<RunRow[]>(() => this.queryRuns(), [])
  runs = $derived(this.listing.value)
  listError = $derived(this.listing.error)
  ensembles = $derived(this.runs.filter((r) => r.kind === ENSEMBLE_KIND))
  finishedEnsembles = $derived(this.ensembles.filter((r) => r.status === 'FINISHED'))
  evaluations = $derived(this.runs.filter((r) => r.kind === EVALUATE_KIND))
  activeRuns = $derived(this.runs.filter((r) => r.kind === ACTIVE_KIND))

  /** The rows of the metrics table the user picked; null until they pick, when the finished runs (newest 8) are shown. */
  picked = $state<string[] | null>(null)
  tableRows = $derived.by(() => {
    const comparable = this.runs.filter((r) => r.kind !== ACTIVE_KIND)
    const picked = this.picked
    return picked === null ? comparable.filter((r) => r.status === 'FINISHED').slice(0, 8) : comparable.filter((r) => picked.includes(r.uuid))
  })

  selected = $state<string | null>(null)
  selectedRun = $derived(this.evaluations.find((r) => r.uuid === this.selected) ?? null)
  evaluation = new Resource<UncertaintyEvaluateResult | null>(
    () => (this.selected ? evaluationResult(this.selected, isLive(this.selectedRun?.status)) : Promise.resolve(null)),
    null,
  )
  evaluationError = $derived(this.evaluation.error && `This evaluation could not be read: ${this.evaluation.error}`)

  /** One result per active-learning run of the model; each guards its own answers' order. */
  activeResults = $state.raw<Record<string, Resource<ActiveLearningResult | null>>>({})
  actionError = $state<string | null>(null)

  async show(): Promise<void> {
    this.visible = true
    await this.refreshCatalogs()
    await this.loadModel()
  }

  /** The models and datasets; returns whether the chosen model changed (it had gone, or none was chosen). */
  async refreshCatalogs(): Promise<boolean> {
    await this.catalogs.reload()
    if (this.model && this.models.some((m) => m.id === this.model)) {
      this.fitOodChoices()
      return false
    }
    this.setModel(this.models[0]?.id ?? '')
    return true
  }

  /** The room follows another model: its runs, its points, and forms whose choices were the other model's. */
  async chooseModel(uuid: string): Promise<void> {
    if (uuid === this.model) return
    this.setModel(uuid)
    await this.loadModel()
  }

  /** Everything shown for the chosen model: its runs, the selected evaluation, its injection points. */
  async loadModel(): Promise<void> {
    await Promise.all([this.refresh(), this.points.reload()])
  }

  private setModel(uuid: string): void {
    this.model = uuid
    this.selected = null
    this.picked = null
    this.evaluation.reset()
    this.evaluateForm.ensemble = ''
    this.evaluateForm.point = 'global'
    for (const job of [this.ensembleJob, this.evaluateJob, this.activeJob]) job.forget()
    this.fitOodChoices()
  }

  /** The OOD choices the forms hold, moved to one that fits the model's samples when they do not. */
  private fitOodChoices(): void {
    const ids = this.oodDatasets.map((d) => d.id)
    const fallback = ids.includes(DEFAULT_OOD) ? DEFAULT_OOD : (ids[0] ?? DEFAULT_OOD)
    if (!ids.includes(this.ensembleForm.oodDataset)) this.ensembleForm.oodDataset = fallback
    if (this.evaluateForm.oodDataset && !ids.includes(this.evaluateForm.oodDataset)) this.evaluateForm.oodDataset = ids.includes(fallback) ? fallback : ''
  }

  /** The runs of the model and the selected evaluation's result; the newest evaluation is selected when none (or a vanished one) is. */
  async refresh(): Promise<void> {
    await this.refreshList()
    await this.evaluation.reload()
  }

  async refreshList(): Promise<void> {
    await this.listing.reload()
    if (!this.selected || !this.evaluations.some((r) => r.uuid === this.selected)) this.select(this.evaluations[0]?.uuid ?? null)
    // What the evaluation form holds stays unless it is no longer the model's (a running ensemble may be, as it finishes).
    const known = [this.model, ...this.ensembles.map((r) => r.uuid)]
    if (!known.includes(this.evaluateForm.ensemble)) this.evaluateForm.ensemble = this.finishedEnsembles[0]?.uuid ?? this.model
    await Promise.all(this.activeRuns.map((r) => this.loadActive(r.uuid)))
  }

  select(uuid: string | null): void {
    if (uuid === this.selected) return
    this.selected = uuid
    this.actionError = null
    this.evaluation.reset()
    void this.evaluation.reload()
  }

  /** Puts a run into the metrics table or takes it out (from then on the table shows only what is picked). */
  pick(uuid: string, on: boolean): void {
    const current = this.picked ?? this.tableRows.map((r) => r.uuid)
    this.picked = on ? [...new Set([...current, uuid])] : current.filter((u) => u !== uuid)
  }

  activeResultOf(uuid: string): ActiveLearningResult | null {
    return this.activeResults[uuid]?.value ?? null
  }

  /** Fetches an active-learning run's result unless it is final already. */
  async loadActive(uuid: string, force = false): Promise<void> {
    let result = this.activeResults[uuid]
    const status = this.activeRuns.find((r) => r.uuid === uuid)?.status
    if (!force && result?.loaded && !isLive(status)) return
    if (!result) {
      result = new Resource(() => activeResult(uuid, isLive(this.activeRuns.find((r) => r.uuid === uuid)?.status)), null)
      this.activeResults = { ...this.activeResults, [uuid]: result }
    }
    await result.reload()
  }

  async startEnsemble(): Promise<void> {
    const model = this.model
    const run = await this.ensembleJob.start(() => {
      const params = ensembleParams(model, this.ensembleForm)
      const what =
        params.method === 'deep' ? 'deep ensemble' : params.repulsion === 'none' ? 'last-layer ensemble' : `${params.repulsion}-space repulsive ensemble`
      return api.startJob({ kind: ENSEMBLE_KIND, name: `${what} ×${params.heads} · ${this.modelName(model)}`, params })
    })
    if (run) await this.refreshList()
  }

  async startEvaluation(): Promise<void> {
    const run = await this.evaluateJob.start(() => {
      const params = evaluateParams(this.evaluateForm)
      const of =
        params.ensemble === this.model
          ? this.modelName(this.model)
          : (this.ensembles.find((r) => r.uuid === params.ensemble)?.name ?? params.ensemble.slice(0, 8))
      const how = [params.noise ? 'under noise' : '', params.analog ? 'on the analog model' : ''].filter(Boolean).join(', ')
      return api.startJob({ kind: EVALUATE_KIND, name: `evaluate ${of}${how ? ` ${how}` : ''}`.slice(0, 200), params })
    })
    if (!run) return
    await this.refreshList()
    this.select(run)
  }

  async startActive(): Promise<void> {
    const model = this.model
    const run = await this.activeJob.start(() => {
      const params = activeParams(model, this.activeForm)
      return api.startJob({ kind: ACTIVE_KIND, name: `active learning · ${params.acquire} · ${this.modelName(model)}`, params })
    })
    if (run) await this.refreshList()
  }

  async cancel(uuid: string): Promise<void> {
    try {
      await api.cancelJob({ run: uuid })
      this.actionError = null
      await this.refreshList()
    } catch (error) {
      this.actionError = errorText(error)
    }
  }

  /** What an evaluation evaluated, in words: the model alone, or the ensemble run's name. */
  evaluatedName(uuid: string): string {
    return uuid === this.model ? 'the model alone' : (this.ensembles.find((e) => e.uuid === uuid)?.name ?? uuid.slice(0, 8))
  }

  modelName(uuid: string): string {
    return this.models.find((m) => m.id === uuid)?.name ?? uuid.slice(0, 8)
  }

  private async queryRuns(): Promise<RunRow[]> {
    const model = this.model
    if (!model) return []
    const own = await api.queryRuns({
      where: `(kind = ${ENSEMBLE_KIND} or kind = ${ACTIVE_KIND}) and params.model = ${quoted(model)}`,
      columns: COLUMNS,
      limit: 1000,
    })
    // Evaluations name what they evaluated (the model or one of its ensembles), not the model: ask for those ids.
    const targets = [model, ...own.rows.filter((r) => r.kind === ENSEMBLE_KIND).map((r) => r.uuid)]
    const evaluations = await Promise.all(
      groups(targets, 30).map((ids) =>
        api.queryRuns({
          where: `kind = ${EVALUATE_KIND} and (${ids.map((id) => `params.ensemble = ${quoted(id)}`).join(' or ')})`,
          columns: COLUMNS,
          limit: 1000,
        }),
      ),
    )
    return [...own.rows, ...evaluations.flatMap((page) => page.rows)].sort((a, b) => b.createdAt - a.createdAt)
  }
}

export const uncertainty = new UncertaintyState()

// Running jobs rewrite their results (an evaluation after each σ, active learning after each round): fetch again at
// most once a second, and once more after the last change. The list changes only when a run appears or changes status.
const reloadEvaluation = coalesce(() => uncertainty.visible && uncertainty.evaluation.reload(), 1000)
const reloadActive = coalesceEach((uuid) => uncertainty.visible && uncertainty.loadActive(uuid, true), 1000)
const refreshList = coalesce(() => uncertainty.visible && uncertainty.refreshList(), 300)
const refreshCatalogs = coalesce(async () => {
  if (uncertainty.visible && (await uncertainty.refreshCatalogs())) await uncertainty.loadModel()
}, 300)
onRunChanged((change) => {
  const { run } = change
  if (MODEL_KINDS.includes(run.kind) && change.statusChanged && run.status === 'FINISHED') refreshCatalogs()
  if (!UNCERTAINTY_KINDS.includes(run.kind)) return
  for (const job of [uncertainty.ensembleJob, uncertainty.evaluateJob, uncertainty.activeJob]) job.changed(run)
  const known = uncertainty.runs.some((r) => r.uuid === run.uuid)
  if (change.statusChanged || !known) refreshList()
  // A result is an artifact: its change carries no new metrics, so any change of these runs may be a new result.
  if (run.uuid === uncertainty.selected) reloadEvaluation()
  if (run.kind === ACTIVE_KIND && known) reloadActive(run.uuid)
})
onReconnect(() => {
  if (uncertainty.visible) void uncertainty.show()
})

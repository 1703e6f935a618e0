// Compression room state: the search set-up, the searches and baselines of the chosen model with their results as they
// grow (followed through the change feed), the policy editor (live cost, measurement, apply) and two pinned policies.
import {
  CompressionBaselineParams,
  CompressionSearchParams,
  Policy,
  POLICY_FORMAT,
  type AgentKind,
  type BaselineKind,
  type BoardSummary,
  type CompressibleLayer,
  type CompressionApplyResult,
  type CompressionBaselineResult,
  type CompressionEpisode,
  type CompressionSearchResult,
  type DatasetInfo,
  type JobResult,
  type LayerPolicy,
  type ModelInfo,
  type PolicyEvaluation,
  type PolicyMeasurement,
  type RewardKind,
  type RunRow,
  type SensitivityCurves,
  resultOfKind,
} from '../../src-main/contract/index.ts'
import { api, errorText, onReconnect } from '../lib/api.svelte.ts'
import { coalesce, coalesceEach } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { StartedJob } from '../lib/started-job.svelte.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'

export const SEARCH_KIND = 'compression-search' as const
export const BASELINE_KIND = 'compression-baseline' as const
const APPLY_KIND = 'compression-apply' as const
const PROFILE_KIND = 'compression-profile' as const
const COMPRESSION_KINDS: readonly string[] = [SEARCH_KIND, BASELINE_KIND, APPLY_KIND, PROFILE_KIND]

export const AGENTS: readonly AgentKind[] = ['joint', 'prune', 'quant']
export const REWARDS: readonly RewardKind[] = ['r6', 'target-power', 'log-cost', 'amc']
export const BASELINES: readonly BaselineKind[] = ['uniform', 'random', 'greedy']
/** The bit widths a layer may take: 1–8 and 32 (float). */
export const BIT_CHOICES = [1, 2, 3, 4, 5, 6, 7, 8, 32] as const
/** The half-width of the target band: the final pick is chosen among episodes within target ± this. */
export const TARGET_BAND = 0.05

export const isLive = (status: string | null | undefined): boolean => status === 'RUNNING' || status === 'SCHEDULED'

/** What the search form edits; numbers are null while their input is empty (retrain samples: the whole split). */
export interface SearchForm {
  name: string
  modelUuid: string
  board: string
  agent: AgentKind
  target: number | null
  reward: RewardKind
  episodes: number | null
  warmupEpisodes: number | null
  retrainEpochs: number | null
  retrainSamples: number | null
  validationSamples: number | null
  finalEpochs: number | null
  latency: 'measured' | 'predicted'
  seed: number | null
}

function defaultForm(): SearchForm {
  const d = CompressionSearchParams.parse({ modelUuid: 'x' })
  return {
    name: '',
    modelUuid: '',
    board: d.board,
    agent: d.agent,
    target: d.target,
    reward: d.reward,
    episodes: d.episodes,
    warmupEpisodes: d.warmupEpisodes,
    retrainEpochs: d.retrainEpochs,
    retrainSamples: d.retrainSamples,
    validationSamples: d.validationSamples,
    finalEpochs: d.finalEpochs,
    latency: d.latency,
    seed: d.seed,
  }
}

/** The form's words for the contract's fields, so a rejected value is named as the form names it. */
const FIELD_LABELS: Record<string, string> = {
  modelUuid: 'Model',
  board: 'Board',
  target: 'Target ρ',
  episodes: 'Episodes',
  warmupEpisodes: 'Warm-up episodes',
  retrainEpochs: 'Retrain epochs',
  retrainSamples: 'Retrain samples',
  validationSamples: 'Validation samples',
  finalEpochs: 'Final epochs',
  seed: 'Seed',
}

const REQUIRED_NUMBERS: (keyof SearchForm)[] = ['target', 'episodes', 'warmupEpisodes', 'retrainEpochs', 'validationSamples', 'finalEpochs', 'seed']

function fieldError(issue: { path: PropertyKey[]; message: string }): Error {
  const field = String(issue.path[0] ?? '')
  if (field === 'modelUuid') return new Error('Choose a model to compress.')
  return new Error(`${FIELD_LABELS[field] ?? field}: ${issue.message.replace(/\.$/, '')}.`)
}

function checkNumbers(form: SearchForm, keys: (keyof SearchForm)[]): void {
  for (const key of keys) if (!Number.isFinite(form[key])) throw new Error(`Give a number for ${FIELD_LABELS[key] ?? key}.`)
}

/** What every compression job of the form shares: the model, board, target and how an episode retrains and validates. */
function episodeSettings(form: SearchForm) {
  return {
    modelUuid: form.modelUuid,
    board: form.board,
    target: form.target,
    retrainEpochs: form.retrainEpochs,
    retrainSamples: form.retrainSamples,
    validationSamples: form.validationSamples,
    latency: form.latency,
    seed: form.seed,
  }
}

/** The form as search parameters, or an Error whose message names the field as the form does. */
export function searchParams(form: SearchForm): CompressionSearchParams {
  checkNumbers(form, REQUIRED_NUMBERS)
  if (form.warmupEpisodes! > form.episodes!) throw new Error('Warm-up episodes: at most as many as the episodes, or the agent never acts.')
  const parsed = CompressionSearchParams.safeParse({
    ...episodeSettings(form),
    agent: form.agent,
    reward: form.reward,
    episodes: form.episodes,
    warmupEpisodes: form.warmupEpisodes,
    finalEpochs: form.finalEpochs,
  })
  if (!parsed.success) throw fieldError(parsed.error.issues[0]!)
  return parsed.data
}

/** A baseline of the same model, board, target and episode settings as the search form. */
export function baselineParams(form: SearchForm, kind: BaselineKind): CompressionBaselineParams {
  checkNumbers(form, ['target', 'retrainEpochs', 'validationSamples', 'seed'])
  const parsed = CompressionBaselineParams.safeParse({ ...episodeSettings(form), kind })
  if (!parsed.success) throw fieldError(parsed.error.issues[0]!)
  return parsed.data
}

/**
 * A rough duration of a search, in seconds: per episode 1 s, plus retraining at 0.5 ms a sample, validation at
 * 0.05 ms a sample and 0.3 s on the board when latency is measured. `trainSamples` stands for "the whole split".
 */
export function estimateSearchSeconds(p: CompressionSearchParams, trainSamples: number | null): number | null {
  const retrainSamples = p.retrainSamples ?? trainSamples
  if (retrainSamples === null) return null
  const perEpisode = 1 + p.retrainEpochs * retrainSamples * 0.5e-3 + p.validationSamples * 0.05e-3 + (p.latency === 'measured' ? 0.3 : 0)
  return p.episodes * perEpisode
}

/** The uncompressed model as a policy: every layer whole, in float. */
export function referencePolicy(layers: readonly CompressibleLayer[]): LayerPolicy[] {
  return layers.map((l) => ({ layer: l.id, keep: 1, weightBits: 32, activationBits: 32 }))
}

/** A policy as its file says it (docs/compression.md). */
export function policyDocument(architecture: string, layers: readonly LayerPolicy[]): Policy {
  return { format: POLICY_FORMAT, version: 1, architecture, layers: layers.map((l) => ({ ...l })) }
}

export function samePolicy(a: readonly LayerPolicy[], b: readonly LayerPolicy[]): boolean {
  return (
    a.length === b.length &&
    a.every((l, i) => {
      const o = b[i]!
      return l.layer === o.layer && l.keep === o.keep && l.weightBits === o.weightBits && l.activationBits === o.activationBits
    })
  )
}

/** A search's best policy: its final pick when it has one, else the episode with the highest reward. */
export function bestEpisode(search: CompressionSearchResult): CompressionEpisode | null {
  if (search.pick) return search.episodes.find((e) => e.episode === search.pick!.episode) ?? null
  let best: CompressionEpisode | null = null
  for (const e of search.episodes) if (e.reward !== null && (best === null || e.reward > best.reward!)) best = e
  return best ?? search.episodes.at(-1) ?? null
}

/** Where the policy in the editor came from, and what is known about it. */
export interface PolicySource {
  label: string
  policy: LayerPolicy[]
  /** Validation accuracy of the episode (null: not known, e.g. from scratch or a file). */
  accuracy: number | null
  /** Measured on the board during the search (null: not measured). */
  latencyS: number | null
  /** The search's per-layer sensitivity curves (null when the policy did not come from a search). */
  sensitivity: SensitivityCurves[] | null
  /** The board the source ran on, which the editor then predicts and measures on. */
  board: string | null
}

/** A policy held for the side-by-side comparison. */
export interface PinnedPolicy {
  label: string
  policy: LayerPolicy[]
  accuracy: number | null
  measuredLatencyS: number | null
}

/** The text of a policy file, checked against the contract; an Error says in a sentence what is wrong with it. */
export function parsePolicyFile(text: string, architecture: string, layers: readonly CompressibleLayer[]): Policy {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error('This file is not JSON: choose a policy file exported from Benchside (benchside-compression-policy).')
  }
  const parsed = Policy.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length ? ` (at ${issue.path.join('.')})` : ''
    throw new Error(`This file is not a Benchside compression policy${where}: ${issue.message.replace(/\.$/, '')}.`)
  }
  const policy = parsed.data
  if (architecture && policy.architecture !== architecture)
    throw new Error(`This policy is for ${policy.architecture}, but the chosen model is ${architecture}: choose a model of that architecture first.`)
  const expected = layers.map((l) => l.id).join(', ')
  const given = policy.layers.map((l) => l.layer).join(', ')
  if (layers.length > 0 && expected !== given) throw new Error(`This policy's layers (${given}) are not the model's compressible layers (${expected}).`)
  return policy
}

/** Quotes a value for the run query language (docs/run-query.md). */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

/** The param columns the runs list shows, in the order of each row's values. */
const RUN_COLUMNS = ['board', 'target', 'agent', 'reward', 'episodes', 'kind'] as const
export type RunColumnKey = (typeof RUN_COLUMNS)[number]

export function paramOf(row: RunRow, key: RunColumnKey): string | null {
  const value = row.values[RUN_COLUMNS.indexOf(key)]
  return value === null || value === undefined ? null : String(value)
}

/** A run's result as its kind's schema says (null while the job has reported none). */
async function resultOf<K extends typeof SEARCH_KIND | typeof BASELINE_KIND | typeof APPLY_KIND>(run: string, kind: K): Promise<JobResult<K> | null> {
  return resultOfKind(await api.getRunResult({ run }), kind)
}

/** The policy editor: one policy of the room's model, its live cost on a board, its measurement, and applying it. */
class PolicyEditorState {
  /** The room's chosen model (the room sets it when the model changes). */
  modelUuid = $state('')
  board = $state('local')
  layersOf = new Resource<{ architecture: string; layers: CompressibleLayer[] } | null>(
    () => (this.modelUuid ? api.compressionLayers({ modelUuid: this.modelUuid }) : Promise.resolve(null)),
    null,
  )
  architecture = $derived(this.layersOf.value?.architecture ?? '')
  layers = $derived(this.layersOf.value?.layers ?? [])
  /** Edited in place by the layer rows. */
  policy = $state<LayerPolicy[]>([])
  source = $state.raw<PolicySource | null>(null)
  edited = $derived(this.source !== null && !samePolicy(this.policy, this.source.policy))
  /** Known accuracy and measured latency of what is in the editor: the source's, until it is edited. */
  accuracy = $derived(this.edited ? null : (this.source?.accuracy ?? null))
  sensitivity = $derived(this.source?.sensitivity ?? null)
  /** One string for the policy, model and board: what the live prediction depends on. */
  key = $derived(JSON.stringify([this.modelUuid, this.board, this.policy]))

  /** The live prediction, with the key it was made for: while an edit's prediction is on its way the last one stays. */
  evaluated = new Resource<{ key: string; evaluation: PolicyEvaluation } | null>(() => this.evaluate(), null)
  evaluation = $derived(this.evaluated.value?.evaluation ?? null)
  /** Whether the prediction shown is for the policy, model and board in the editor now. */
  evaluationCurrent = $derived(this.evaluated.value?.key === this.key)
  measurement = new Resource<PolicyMeasurement | null>(() => this.measure(), null)
  /** The key the measurement was taken for: a measurement of another policy is not shown. */
  measuredKey = $state<string | null>(null)
  shownMeasurement = $derived(this.measuredKey === this.key ? this.measurement.value : null)

  applyEpochs = $state<number | null>(3)
  applyOnBoard = $state(false)
  apply = new StartedJob(() => void this.applied.reload())
  applied = new Resource<CompressionApplyResult | null>(() => (this.apply.uuid ? resultOf(this.apply.uuid, APPLY_KIND) : Promise.resolve(null)), null)
  fileError = $state<string | null>(null)

  /** The model's layers, and the reference policy in the editor when what it holds is not for this model. */
  async loadLayers(): Promise<void> {
    await this.layersOf.reload()
    const ids = this.layers.map((l) => l.id).join(',')
    if (this.policy.map((l) => l.layer).join(',') !== ids) this.openReference()
  }

  open(source: PolicySource): void {
    this.source = source
    this.policy = source.policy.map((l) => ({ ...l }))
    if (source.board) this.board = source.board
    this.fileError = null
  }

  /** Changes one layer's keep or bits. */
  update(index: number, patch: Partial<LayerPolicy>): void {
    const layer = this.policy[index]
    if (layer) this.policy[index] = { ...layer, ...patch }
  }

  openReference(): void {
    this.open({
      label: 'the uncompressed model (from scratch)',
      policy: referencePolicy(this.layers),
      accuracy: null,
      latencyS: null,
      sensitivity: null,
      board: null,
    })
  }

  openEpisode(result: CompressionSearchResult | CompressionBaselineResult, episode: CompressionEpisode, label: string): void {
    this.open({
      label,
      policy: episode.policy,
      accuracy: episode.accuracy,
      latencyS: episode.latencyS,
      sensitivity: 'sensitivity' in result ? result.sensitivity : null,
      board: result.board,
    })
  }

  document(): Policy {
    return policyDocument(this.architecture, $state.snapshot(this.policy))
  }

  importFile(name: string, text: string): void {
    try {
      const policy = parsePolicyFile(text, this.architecture, this.layers)
      this.open({ label: `the file ${name}`, policy: policy.layers, accuracy: null, latencyS: null, sensitivity: null, board: null })
    } catch (error) {
      this.fileError = errorText(error)
    }
  }

  pinned(): PinnedPolicy {
    return {
      label: `${this.source?.label ?? 'policy'}${this.edited ? ', edited' : ''}`,
      policy: $state.snapshot(this.policy),
      accuracy: this.accuracy,
      measuredLatencyS: this.shownMeasurement?.latencyS ?? (this.edited ? null : (this.source?.latencyS ?? null)),
    }
  }

  async startApply(): Promise<void> {
    const epochs = this.applyEpochs
    if (epochs === null || !Number.isInteger(epochs) || epochs < 0) {
      this.apply.error = 'Epochs: give a whole number of retraining epochs (0 for none).'
      return
    }
    this.applied.reset()
    const modelUuid = this.modelUuid
    await this.apply.start(() =>
      api.startJob({
        kind: APPLY_KIND,
        name: `apply ${this.source?.label ?? 'policy'}${this.edited ? ' (edited)' : ''}`.slice(0, 200),
        params: { modelUuid, policy: this.document(), epochs, board: this.applyOnBoard ? this.board : null, seed: 1 },
      }),
    )
  }

  async startMeasure(): Promise<void> {
    this.measuredKey = this.key
    await this.measurement.reload()
  }

  private async evaluate(): Promise<{ key: string; evaluation: PolicyEvaluation } | null> {
    const modelUuid = this.modelUuid
    if (!modelUuid || this.policy.length === 0 || !this.architecture) return null
    const key = this.key
    return { key, evaluation: await api.evaluatePolicy({ modelUuid, board: this.board, policy: this.document() }) }
  }

  private measure(): Promise<PolicyMeasurement | null> {
    const modelUuid = this.modelUuid
    if (!modelUuid || this.policy.length === 0) return Promise.resolve(null)
    return api.measurePolicy({ modelUuid, board: this.board, policy: this.document() })
  }
}

class CompressionState {
  /** Whether the room is on screen; change events refresh it only then (showing it reloads everything). */
  visible = false
  form = $state<SearchForm>(defaultForm())

  catalogs = new Resource(
    async () => {
      const [models, boards, datasets] = await Promise.all([api.listModels({}), api.listBoards({}), api.listDatasets({})])
      return { models, boards, datasets }
    },
    { models: [] as ModelInfo[], boards: [] as BoardSummary[], datasets: [] as DatasetInfo[] },
  )
  models = $derived(this.catalogs.value.models)
  boards = $derived(this.catalogs.value.boards)
  model = $derived(this.models.find((m) => m.id === this.form.modelUuid) ?? null)
  /** Training samples of the chosen model's dataset: what "retrain on the whole split" means. */
  trainSamples = $derived(this.catalogs.value.datasets.find((d) => d.id === this.model?.dataset)?.counts.train ?? null)
  catalogError = $derived(this.catalogs.error && `The models and boards did not load: ${this.catalogs.error}`)

  search = new StartedJob()
  baseline = new StartedJob()
  profile = new StartedJob(() => void this.editor.evaluated.reload())

  /** The searches and baselines of the chosen model, newest first. */
  listing = new Resource<RunRow[]>(async () => {
    const model = this.form.modelUuid
    if (!model) return []
    const page = await api.queryRuns({
      where: `(kind = ${SEARCH_KIND} or kind = ${BASELINE_KIND}) and params.modelUuid = ${quoted(model)}`,
      columns: RUN_COLUMNS.map((key) => ({ kind: 'param' as const, key })),
      limit: 500,
    })
    return page.rows
  }, [])
  searches = $derived(this.listing.value.filter((r) => r.kind === SEARCH_KIND))
  baselines = $derived(this.listing.value.filter((r) => r.kind === BASELINE_KIND))
  listError = $derived(this.listing.error)

  selected = $state<string | null>(null)
  selectedRun = $derived(this.searches.find((r) => r.uuid === this.selected) ?? null)
  result = new Resource<CompressionSearchResult | null>(() => (this.selected ? resultOf(this.selected, SEARCH_KIND) : Promise.resolve(null)), null)
  /** The selected search's result; an answer for a search no longer selected is dropped by the resource. */
  searchResult = $derived(this.result.value)
  resultError = $derived(this.result.error && `This search could not be read: ${this.result.error}`)
  actionError = $state<string | null>(null)

  /** Baselines are plotted with the search on the same board (a latency ratio is relative to that board). */
  plotBoard = $derived(this.searchResult?.board ?? (this.selectedRun && paramOf(this.selectedRun, 'board')) ?? this.form.board)
  plottedBaselines = $derived(this.baselines.filter((b) => paramOf(b, 'board') === this.plotBoard))
  baselineResults = $state.raw<Record<string, Resource<CompressionBaselineResult | null>>>({})

  pins = $state.raw<{ a: PinnedPolicy | null; b: PinnedPolicy | null }>({ a: null, b: null })

  editor = new PolicyEditorState()

  baselineResultOf(uuid: string): CompressionBaselineResult | null {
    return this.baselineResults[uuid]?.value ?? null
  }

  async show(): Promise<void> {
    this.visible = true
    await this.refreshCatalogs()
    await Promise.all([this.refresh(), this.editor.loadLayers()])
  }

  async refreshCatalogs(): Promise<void> {
    await this.catalogs.reload()
    if (!this.form.modelUuid || !this.models.some((m) => m.id === this.form.modelUuid)) this.form.modelUuid = this.models[0]?.id ?? ''
    this.editor.modelUuid = this.form.modelUuid
    if (!this.boards.some((b) => b.id === this.form.board)) this.form.board = 'local'
  }

  /** The runs of the model and the selected search's result; the newest search is selected when none (or a vanished one) is. */
  async refresh(): Promise<void> {
    await this.refreshList()
    await this.result.reload()
  }

  async refreshList(): Promise<void> {
    await this.listing.reload()
    if (!this.selected || !this.searches.some((r) => r.uuid === this.selected)) this.select(this.searches[0]?.uuid ?? null)
    await Promise.all(this.plottedBaselines.map((b) => this.loadBaseline(b.uuid)))
  }

  /** The room follows another model: its runs, its layers, and the reference policy in the editor. */
  async chooseModel(uuid: string): Promise<void> {
    this.form.modelUuid = uuid
    this.editor.modelUuid = uuid
    this.selected = null
    this.pins = { a: null, b: null }
    this.result.reset()
    await Promise.all([this.refreshList(), this.editor.loadLayers()])
    // A policy of the model chosen before means nothing for this one, even with the same layer names.
    this.editor.openReference()
    await this.result.reload()
  }

  select(uuid: string | null): void {
    if (uuid === this.selected) return
    this.selected = uuid
    this.actionError = null
    this.result.reset()
    void this.result.reload()
  }

  /** Fetches a baseline's result unless it is final already. */
  async loadBaseline(uuid: string, force = false): Promise<void> {
    let result = this.baselineResults[uuid]
    const status = this.baselines.find((b) => b.uuid === uuid)?.status
    if (!force && result?.loaded && !isLive(status)) return
    if (!result) {
      result = new Resource(() => resultOf(uuid, BASELINE_KIND), null)
      this.baselineResults = { ...this.baselineResults, [uuid]: result }
    }
    await result.reload()
  }

  async startSearch(): Promise<void> {
    await this.search.start(async () => {
      const params = searchParams(this.form)
      const name = this.form.name.trim() || `${params.agent} search · ρ ${params.target} · ${this.model?.name ?? params.modelUuid.slice(0, 8)}`
      return api.startJob({ kind: SEARCH_KIND, name, params })
    })
    if (this.search.uuid && !this.search.error) {
      this.select(this.search.uuid)
      await this.refreshList()
    }
  }

  async startBaseline(kind: BaselineKind): Promise<void> {
    await this.baseline.start(async () => {
      const params = baselineParams(this.form, kind)
      return api.startJob({ kind: BASELINE_KIND, name: `${kind} baseline · ρ ${params.target} · ${this.model?.name ?? params.modelUuid.slice(0, 8)}`, params })
    })
    await this.refreshList()
  }

  async startProfile(board: string): Promise<void> {
    const modelUuid = this.form.modelUuid
    if (!modelUuid) {
      this.profile.error = 'Choose a model first: the board is profiled with its layers.'
      return
    }
    await this.profile.start(() =>
      api.startJob({ kind: PROFILE_KIND, name: `profile ${board} · ${this.model?.name ?? modelUuid.slice(0, 8)}`, params: { modelUuid, board } }),
    )
  }

  async cancel(uuid: string): Promise<void> {
    await this.act(() => api.cancelJob({ run: uuid }))
  }

  async resume(uuid: string): Promise<void> {
    await this.act(() => api.resumeJob({ run: uuid }))
  }

  pin(slot: 'a' | 'b'): void {
    this.pins = { ...this.pins, [slot]: this.editor.pinned() }
  }

  unpin(slot: 'a' | 'b'): void {
    this.pins = { ...this.pins, [slot]: null }
  }

  private async act(action: () => Promise<unknown>): Promise<void> {
    try {
      await action()
      this.actionError = null
      await this.refresh()
    } catch (error) {
      this.actionError = errorText(error)
    }
  }
}

export const compression = new CompressionState()

// A search rewrites its result after every episode: fetch it again at most twice a second, and once more after the
// last change. The list changes only when a run appears, goes, or changes status.
const reloadSearch = coalesce(() => compression.visible && compression.result.reload(), 500)
const reloadBaseline = coalesceEach((uuid) => compression.visible && compression.loadBaseline(uuid, true), 500)
const refreshList = coalesce(() => compression.visible && compression.refreshList(), 300)
const refreshCatalogs = coalesce(() => compression.visible && compression.refreshCatalogs(), 300)
const reevaluate = coalesce(() => compression.visible && compression.editor.evaluated.reload(), 300)
onRunChanged((change) => {
  const { run } = change
  // A finished training or apply is a new model for the form.
  if ((run.kind === 'train' || run.kind === APPLY_KIND) && change.statusChanged && run.status === 'FINISHED') refreshCatalogs()
  if (!COMPRESSION_KINDS.includes(run.kind)) return
  for (const started of [compression.search, compression.baseline, compression.profile, compression.editor.apply]) started.changed(run)
  if (run.kind !== SEARCH_KIND && run.kind !== BASELINE_KIND) return
  // A search or baseline profiles its board first: the editor may have a prediction now where it had none.
  if (change.statusChanged && compression.editor.evaluation?.predictionMissing) reevaluate()
  const known = compression.listing.value.some((r) => r.uuid === run.uuid)
  if (change.statusChanged || !known) refreshList()
  if (run.uuid === compression.selected) reloadSearch()
  if (compression.plottedBaselines.some((b) => b.uuid === run.uuid)) reloadBaseline(run.uuid)
})
onReconnect(() => {
  if (!compression.visible) return
  void compression.refreshCatalogs()
  void compression.refresh()
})

// Quantization room state: the study set-up form, the robustness-study runs, and the selected study's results.
import {
  StudyParams,
  studyVariants,
  type ArchitectureInfo,
  type DatasetInfo,
  type Executor,
  type InjectionPointInfo,
  type RunSummary,
  type StudyResult,
} from '../../src-main/contract/index.ts'
import type { z } from 'zod'
import { api, errorText, onReconnect } from '../lib/api.svelte.ts'
import { coalesce } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { grewOrMoved, onRunChanged } from '../lib/run-feed.svelte.ts'

type Architecture = z.infer<typeof ArchitectureInfo>

/** The bit widths offered as checkboxes (the contract takes any of 2–16). */
export const BIT_CHOICES = [2, 3, 4, 6, 8, 16] as const

/** What the form edits: lists as the user types them, numbers as the inputs bind them (null when emptied). */
export interface StudyForm {
  name: string
  dataset: string
  architecture: string
  epochs: number | null
  repeats: number | null
  seed: number | null
  float: boolean
  noisySigmas: string
  qatBits: number[]
  qatScales: string
  qatNoisy: boolean
  from: number | null
  to: number | null
  count: number | null
  noiseRepeats: number | null
  walking: boolean
  limit: number | null
}

function defaultForm(): StudyForm {
  const d = StudyParams.parse({})
  return {
    name: '',
    dataset: d.dataset,
    architecture: d.architecture,
    epochs: d.epochs,
    repeats: d.repeats,
    seed: d.seed,
    float: d.float,
    noisySigmas: d.noisySigmas.join(', '),
    qatBits: [...d.qatBits],
    qatScales: d.qatScales.join(', '),
    qatNoisy: d.qatNoisy,
    from: d.evaluation.from,
    to: d.evaluation.to,
    count: d.evaluation.count,
    noiseRepeats: d.evaluation.repeats,
    walking: d.evaluation.walking,
    limit: d.evaluation.limit ?? null,
  }
}

/** Words for the contract's field paths, so a rejected form names the field as the form does. */
const FIELD_LABELS: Record<string, string> = {
  dataset: 'Dataset',
  architecture: 'Architecture',
  epochs: 'Epochs',
  repeats: 'Trainings per cell',
  seed: 'Seed',
  noisySigmas: 'Noisy training σ',
  qatBits: 'QAT bit widths',
  qatScales: 'Activation scales',
  'evaluation.from': 'σ from',
  'evaluation.to': 'σ to',
  'evaluation.count': 'σ points',
  'evaluation.repeats': 'Noise draws',
  'evaluation.limit': 'Test samples',
}

function numberList(text: string, label: string): number[] {
  return text
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map((token) => {
      const value = Number(token)
      if (!Number.isFinite(value)) throw new Error(`${label}: “${token}” is not a number. Give numbers separated by commas, e.g. 0.25, 0.5.`)
      return value
    })
}

/** The form as job parameters, or an Error whose message says which field is wrong and how. */
export function studyParams(form: StudyForm): StudyParams {
  const numbers: [keyof StudyForm, string][] = [
    ['epochs', 'Epochs'],
    ['repeats', 'Trainings per cell'],
    ['seed', 'Seed'],
    ['from', 'σ from'],
    ['to', 'σ to'],
    ['count', 'σ points'],
    ['noiseRepeats', 'Noise draws'],
  ]
  for (const [key, label] of numbers) if (!Number.isFinite(form[key])) throw new Error(`Give a number for ${label}.`)
  if (form.from! >= form.to!) throw new Error('σ from must be below σ to: the evaluation grid runs from the first to the second.')
  const input = {
    dataset: form.dataset,
    architecture: form.architecture,
    epochs: form.epochs,
    repeats: form.repeats,
    seed: form.seed,
    float: form.float,
    noisySigmas: numberList(form.noisySigmas, 'Noisy training σ'),
    qatBits: [...form.qatBits].sort((a, b) => a - b),
    qatScales: numberList(form.qatScales, 'Activation scales'),
    qatNoisy: form.qatNoisy,
    evaluation: { from: form.from, to: form.to, count: form.count, repeats: form.noiseRepeats, walking: form.walking, limit: form.limit ?? undefined },
  }
  const parsed = StudyParams.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const path = issue.path.filter((p) => typeof p === 'string').join('.')
    throw new Error(`${FIELD_LABELS[path] ?? path}: ${issue.message}`)
  }
  const p = parsed.data
  if (!p.float && p.noisySigmas.length === 0 && p.qatBits.length === 0) throw new Error('Choose at least one method: float, noisy training or a QAT bit width.')
  return p
}

/** How many trainings the grid holds: the job's own grid, counted. */
export function trainingCount(p: StudyParams): number {
  return studyVariants(p).length
}

export const isLive = (status: string | undefined): boolean => status === 'RUNNING' || status === 'SCHEDULED'

class QuantizationState {
  /** Whether the room is on screen; change events refresh it only then (showing it reloads everything). */
  visible = false

  form = $state<StudyForm>(defaultForm())
  catalogs = new Resource(
    async () => {
      const [datasets, architectures] = await Promise.all([api.listDatasets({}), api.listArchitectures({})])
      return { datasets, architectures }
    },
    { datasets: [] as DatasetInfo[], architectures: [] as Architecture[] },
  )
  datasets = $derived(this.catalogs.value.datasets)
  architectures = $derived(this.catalogs.value.architectures)
  catalogError = $derived(this.catalogs.error && `The dataset and architecture lists did not load: ${this.catalogs.error}`)
  starting = $state(false)
  /** Where the study runs: here, or a SLURM cluster (one task per training). */
  executor = $state<Executor | undefined>(undefined)
  startError = $state<string | null>(null)

  listing = new Resource(() => api.listRuns({ kind: 'robustness-study' }), [] as RunSummary[])
  runs = $derived(this.listing.value)
  loaded = $derived(this.listing.loaded)
  listError = $derived(this.listing.error)
  selected = $state<string | null>(null)
  /** The selected study's results; the fetcher reads `selected`, and an answer for one no longer selected is dropped. */
  result = new Resource<StudyResult | null>(() => (this.selected ? api.getStudy({ run: this.selected }) : Promise.resolve(null)), null)
  study = $derived(this.result.value)
  studyError = $derived(this.result.error && `This study could not be read: ${this.result.error}`)
  actionError = $state<string | null>(null)
  /** The injection points of the selected study's network, in network order, for its layer-midpoint bars. */
  points = new Resource<InjectionPointInfo[]>(async () => {
    const [architecture, dataset] = this.pointsOf.split('\n')
    return architecture && dataset ? api.describeArchitecture({ architecture, dataset }) : []
  }, [])
  /** Which network the bars need, as one string: a running study's new results do not ask for its points again. */
  private pointsOf = $derived(this.study?.params.evaluation.walking ? `${this.study.params.architecture}\n${this.study.params.dataset}` : '')

  selectedRun = $derived(this.runs.find((r) => r.uuid === this.selected) ?? null)

  async show(): Promise<void> {
    this.visible = true
    await Promise.all([this.catalogs.reload(), this.refresh()])
  }

  /** The study list (newest first) and the selected study; the newest is selected when none (or a vanished one) is. */
  async refresh(): Promise<void> {
    await this.refreshList()
    await this.result.reload()
  }

  async refreshList(): Promise<void> {
    await this.listing.reload()
    if (!this.selected || !this.runs.some((r) => r.uuid === this.selected)) this.select(this.runs[0]?.uuid ?? null)
  }

  select(uuid: string | null): void {
    if (uuid === this.selected) return
    this.selected = uuid
    this.actionError = null
    this.result.reset()
    void this.result.reload()
  }

  async start(): Promise<void> {
    this.starting = true
    try {
      const params = studyParams(this.form)
      const name = this.form.name.trim() || `robustness study · ${params.architecture} · ${params.dataset}`
      const run = await api.startJob({ kind: 'robustness-study', name, params, executor: this.executor })
      this.startError = null
      this.select(run.uuid)
      await this.refreshList()
    } catch (error) {
      this.startError = errorText(error)
    } finally {
      this.starting = false
    }
  }

  async cancel(uuid: string): Promise<void> {
    await this.act(() => api.cancelJob({ run: uuid }))
  }

  async resume(uuid: string): Promise<void> {
    await this.act(() => api.resumeJob({ run: uuid }))
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

export const quantization = new QuantizationState()

// A running study writes cells and metrics in bursts: its results are fetched again at most once a second, and once
// more after the last change. The list changes only when a study appears, goes, or changes status.
const reloadStudy = coalesce(() => quantization.visible && quantization.result.reload(), 1000)
const refreshList = coalesce(() => quantization.visible && quantization.refreshList(), 300)
onRunChanged((change) => {
  if (change.run.kind !== 'robustness-study') return
  if (change.statusChanged || !quantization.runs.some((r) => r.uuid === change.run.uuid)) refreshList()
  if (change.run.uuid === quantization.selected && grewOrMoved(change)) reloadStudy()
})
onReconnect(() => {
  if (quantization.visible) void quantization.refresh()
})

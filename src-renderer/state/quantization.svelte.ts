// Quantization room state: the study set-up form, the robustness-study runs, and the selected study's results.
import { StudyParams, type ArchitectureInfo, type DatasetInfo, type InjectionPointInfo, type RunSummary, type StudyResult } from '../../src-main/contract/index.ts'
import type { z } from 'zod'
import { api, errorText } from '../lib/api.svelte.ts'

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

/** How many trainings the grid holds (mirrors the job's grid: float, noisy σs, bits × scales (× QAT+noise), × repeats). */
export function trainingCount(p: StudyParams): number {
  const qatCells = p.qatBits.length * p.qatScales.length * (p.qatNoisy && p.noisySigmas.length ? 2 : 1)
  return ((p.float ? 1 : 0) + p.noisySigmas.length + qatCells) * p.repeats
}

export const isLive = (status: string | undefined): boolean => status === 'RUNNING' || status === 'SCHEDULED'

class QuantizationState {
  /** Whether the room is on screen; change events refresh it only then (showing it reloads everything). */
  visible = false

  form = $state<StudyForm>(defaultForm())
  datasets = $state<DatasetInfo[]>([])
  architectures = $state<Architecture[]>([])
  catalogError = $state<string | null>(null)
  starting = $state(false)
  startError = $state<string | null>(null)

  runs = $state<RunSummary[]>([])
  loaded = $state(false)
  listError = $state<string | null>(null)
  selected = $state<string | null>(null)
  study = $state<StudyResult | null>(null)
  studyError = $state<string | null>(null)
  actionError = $state<string | null>(null)
  /** The injection points of the selected study's network, in network order, for its layer-midpoint bars. */
  points = $state<InjectionPointInfo[]>([])
  private pointsOf = ''

  selectedRun = $derived(this.runs.find((r) => r.uuid === this.selected) ?? null)

  async show(): Promise<void> {
    this.visible = true
    await Promise.all([this.loadCatalogs(), this.refresh()])
  }

  async loadCatalogs(): Promise<void> {
    try {
      ;[this.datasets, this.architectures] = await Promise.all([api.listDatasets({}), api.listArchitectures({})])
      this.catalogError = null
    } catch (error) {
      this.catalogError = `The dataset and architecture lists did not load: ${errorText(error)}`
    }
  }

  /** The study list (newest first) and the selected study; the newest is selected when none (or a vanished one) is. */
  async refresh(): Promise<void> {
    try {
      this.runs = await api.listRuns({ kind: 'robustness-study' })
      this.listError = null
      if (!this.selected || !this.runs.some((r) => r.uuid === this.selected)) this.selected = this.runs[0]?.uuid ?? null
    } catch (error) {
      this.listError = errorText(error)
    } finally {
      this.loaded = true
    }
    if (this.selected) await this.loadStudy(this.selected)
    else this.study = null
  }

  async select(uuid: string): Promise<void> {
    if (uuid === this.selected) return
    this.selected = uuid
    this.study = null
    this.actionError = null
    await this.loadStudy(uuid)
  }

  private async loadStudy(uuid: string): Promise<void> {
    try {
      const study = await api.getStudy({ run: uuid })
      // A slower answer for a study no longer selected must not replace the current one.
      if (this.selected !== uuid) return
      this.study = study
      this.studyError = null
      if (study.params.evaluation.walking) await this.loadPoints(study.params.architecture, study.params.dataset)
    } catch (error) {
      if (this.selected === uuid) this.studyError = `This study could not be read: ${errorText(error)}`
    }
  }

  private async loadPoints(architecture: string, dataset: string): Promise<void> {
    const key = `${architecture}|${dataset}`
    if (key === this.pointsOf) return
    try {
      this.points = await api.describeArchitecture({ architecture, dataset })
      this.pointsOf = key
    } catch {
      // Only the bars' order and labels depend on it: they fall back to the point ids.
      this.points = []
    }
  }

  async start(): Promise<void> {
    this.starting = true
    try {
      const params = studyParams(this.form)
      const name = this.form.name.trim() || `robustness study · ${params.architecture} · ${params.dataset}`
      const run = await api.startJob({ kind: 'robustness-study', name, params })
      this.startError = null
      this.selected = run.uuid
      this.study = null
      await this.refresh()
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

// A running study sends many progress events; refresh at most once a second, and once more after the last event.
const REFRESH_MS = 1000
let timer: ReturnType<typeof setTimeout> | null = null
let lastRefresh = 0
export function scheduleRefresh(): void {
  if (!quantization.visible || timer) return
  timer = setTimeout(() => {
    timer = null
    lastRefresh = Date.now()
    void quantization.refresh()
  }, Math.max(0, lastRefresh + REFRESH_MS - Date.now()))
}
api.on('jobProgress', (progress) => {
  if (progress.kind === 'robustness-study') scheduleRefresh()
})
api.on('runsChanged', () => scheduleRefresh())

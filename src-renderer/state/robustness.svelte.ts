// Robustness room state: the sweep runs, the ones chosen for display (the first is primary), their results, and which
// model each chosen sweep measured. A sweep's result is fetched again when the change feed says its cells grew.
import type { ModelInfo, RunSummary, SweepResult } from '../../src-main/contract/index.ts'
import { api, onReconnect } from '../lib/api.svelte.ts'
import { coalesce, coalesceEach } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { grewOrMoved, onRunChanged } from '../lib/run-feed.svelte.ts'

class RobustnessState {
  /** Whether the room is on screen; change events refresh it only then. */
  visible = false
  listing = new Resource(
    async () => {
      const [runs, models] = await Promise.all([api.listRuns({ kind: 'sweep' }), api.listModels({})])
      return { runs, models }
    },
    { runs: [] as RunSummary[], models: [] as ModelInfo[] },
  )
  runs = $derived(this.listing.value.runs)
  models = $derived(this.listing.value.models)
  chosen = $state<string[]>([])
  /** One result per sweep ever chosen; each guards its own answers' order. */
  sweeps = $state.raw<Record<string, Resource<SweepResult | null>>>({})
  /** The model each sweep measured (from its params, which never change), for its weight statistics. */
  modelOf = $state<Record<string, string | null>>({})

  primary = $derived(this.chosen[0] ? (this.sweeps[this.chosen[0]]?.value ?? null) : null)
  results = $derived(this.chosen.map((uuid) => this.sweeps[uuid]?.value).filter((r): r is SweepResult => r != null))
  errors = $derived(
    this.chosen.flatMap((uuid) => {
      const error = this.sweeps[uuid]?.error
      return error ? [`${this.runs.find((r) => r.uuid === uuid)?.name ?? uuid.slice(0, 8)}: ${error}`] : []
    }),
  )

  async show(): Promise<void> {
    this.visible = true
    await this.refresh()
  }

  async refresh(): Promise<void> {
    await this.listing.reload()
    if (this.chosen.length === 0 && this.runs[0]) this.chosen = [this.runs[0].uuid]
    await Promise.all(this.chosen.map((uuid) => this.load(uuid)))
  }

  async load(uuid: string): Promise<void> {
    let sweep = this.sweeps[uuid]
    if (!sweep) this.sweeps = { ...this.sweeps, [uuid]: (sweep = new Resource(() => api.getSweep({ run: uuid }), null)) }
    await Promise.all([sweep.reload(), this.findModel(uuid)])
  }

  private async findModel(uuid: string): Promise<void> {
    if (uuid in this.modelOf) return
    try {
      this.modelOf[uuid] = (await api.getRun({ run: uuid })).params.model ?? null
    } catch {
      // Only the weight statistics need it; the sweep itself shows (with its own error, if it has one).
    }
  }

  toggle(uuid: string): void {
    this.chosen = this.chosen.includes(uuid) ? this.chosen.filter((u) => u !== uuid) : [...this.chosen, uuid]
    if (this.chosen.includes(uuid)) void this.load(uuid)
  }

  only(uuid: string): void {
    this.chosen = [uuid]
    void this.load(uuid)
  }
}

export const robustness = new RobustnessState()

const refreshList = coalesce(() => robustness.visible && robustness.listing.reload(), 300)
const reloadSweep = coalesceEach((uuid) => robustness.visible && robustness.sweeps[uuid]?.reload(), 500)

onRunChanged((change) => {
  const { run } = change
  if (run.kind === 'sweep' && (change.statusChanged || !robustness.runs.some((r) => r.uuid === run.uuid))) refreshList()
  // A new model (a finished training) joins the sweep form's list.
  if (run.kind === 'train' && change.statusChanged && run.status === 'FINISHED') refreshList()
  if (robustness.chosen.includes(run.uuid) && grewOrMoved(change)) reloadSweep(run.uuid)
})
onReconnect(() => {
  if (robustness.visible) void robustness.refresh()
})

// Robustness view state: the sweep runs, the ones chosen for display (the first is primary), their results.
import type { ModelInfo, RunSummary, SweepResult } from '../../src-main/contract/index.ts'
import { api, errorText } from '../lib/api.svelte.ts'

class RobustnessState {
  runs = $state<RunSummary[]>([])
  models = $state<ModelInfo[]>([])
  chosen = $state<string[]>([])
  results = $state<Record<string, SweepResult>>({})
  error = $state<string | null>(null)
  loaded = $state(false)

  primary = $derived(this.chosen[0] ? this.results[this.chosen[0]] ?? null : null)

  async refresh(): Promise<void> {
    try {
      ;[this.runs, this.models] = await Promise.all([api.listRuns({ kind: 'sweep' }), api.listModels({})])
      if (this.chosen.length === 0 && this.runs[0]) this.chosen = [this.runs[0].uuid]
      await Promise.all(this.chosen.map((uuid) => this.load(uuid)))
      this.error = null
    } catch (error) {
      this.error = errorText(error)
    } finally {
      this.loaded = true
    }
  }

  async load(uuid: string): Promise<void> {
    this.results[uuid] = await api.getSweep({ run: uuid })
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
api.on('runsChanged', () => void robustness.refresh())

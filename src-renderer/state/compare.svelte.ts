// The run comparison (#/runs/compare?runs=…): its state mirrored in the address (state/compare-url.ts), and the
// service's comparison of the chosen runs, fetched again when the change feed says one of them changed.
import type { RunComparison } from '../../src-main/contract/index.ts'
import { api, onReconnect } from '../lib/api.svelte.ts'
import { coalesce } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { route } from '../lib/route.svelte.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'
import { compareQuery, defaultCompareState, parseCompare, type CompareState } from './compare-url.ts'

class CompareViewState {
  /** Whether the comparison is on screen; change events refresh it only then. */
  visible = false
  /** Everything the address says; replaced as a whole by `update`. */
  view = $state.raw<CompareState>(defaultCompareState())
  comparison = new Resource<RunComparison | null>(() => {
    const runs = this.view.runs
    return runs.length >= 2 ? api.compareRuns({ runs }) : Promise.resolve(null)
  }, null)

  /** Takes the state from the address, when it says something else than what is shown (a reload, back, a pasted link). */
  sync(query: URLSearchParams): void {
    // Compared as written back: an address with its parts in another order says the same thing.
    const next = parseCompare(query)
    if (compareQuery(next).toString() === compareQuery(this.view).toString()) return
    const runsChanged = next.runs.join(',') !== this.view.runs.join(',')
    this.view = next
    if (runsChanged || !this.comparison.loaded) void this.comparison.reload()
  }

  /** Changes part of the state and writes it into the address (replacing the history entry). */
  update(patch: Partial<CompareState>): void {
    const runsChanged = patch.runs !== undefined && patch.runs.join(',') !== this.view.runs.join(',')
    this.view = { ...this.view, ...patch }
    route.replaceQuery(compareQuery(this.view))
    if (runsChanged) void this.comparison.reload()
  }

  refresh(): Promise<void> {
    return this.comparison.reload()
  }
}

export const compare = new CompareViewState()

// Tags, status, new metrics or files of a compared run change the comparison: fetch it again, bursts coalesced.
const refresh = coalesce(() => compare.visible && compare.refresh(), 500)
onRunChanged((change) => {
  if (compare.visible && compare.comparison.value?.runs.some((r) => r.uuid === change.run.uuid)) refresh()
})
onReconnect(() => {
  if (compare.visible) refresh()
})

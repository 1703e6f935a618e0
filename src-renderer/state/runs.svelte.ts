// Shared state of the Runs view: the filtered list, the vocabulary for the filters, which run is selected (its detail
// is followed through the change feed by the component that shows it).
import type { RunStatus, RunSummary } from '../../src-main/contract/index.ts'
import { api } from '../lib/api.svelte.ts'
import { coalesce } from '../lib/coalesce.ts'
import { runDuration } from '../lib/format.ts'
import { Resource } from '../lib/resource.svelte.ts'

export type SortColumn = 'name' | 'kind' | 'status' | 'started' | 'duration'

class RunsState {
  filter = $state({ text: '', kind: '', status: '' as RunStatus | '', tag: '', includeDeleted: false })
  sort = $state<{ column: SortColumn; descending: boolean }>({ column: 'started', descending: true })
  /** The filtered runs, and every run (deleted ones too) for the counts and the filter menus. */
  private listing = new Resource(
    async () => {
      const f = this.filter
      const [filtered, everything] = await Promise.all([
        api.listRuns({
          text: f.text || undefined,
          kind: f.kind || undefined,
          status: f.status || undefined,
          tag: f.tag || undefined,
          includeDeleted: f.includeDeleted,
        }),
        api.listRuns({ includeDeleted: true }),
      ])
      return { filtered, everything }
    },
    { filtered: [] as RunSummary[], everything: [] as RunSummary[] },
  )
  list = $derived(this.listing.value.filtered)
  total = $derived(this.listing.value.everything.filter((r) => !r.deleted).length)
  /** Every kind and tag in the history, whatever the filter, so the filter menus never empty themselves. */
  kinds = $derived([...new Set(this.listing.value.everything.map((r) => r.kind))].sort())
  tags = $derived([...new Set(this.listing.value.everything.flatMap((r) => r.tags))].sort())
  loaded = $derived(this.listing.loaded)
  error = $derived(this.listing.error)
  selected = $state<string | null>(null)

  sorted = $derived.by(() => {
    const key = (r: RunSummary): string | number =>
      ({ name: r.name.toLowerCase(), kind: r.kind, status: r.status, started: r.startTime ?? r.createdAt, duration: runDuration(r) ?? -1 })[this.sort.column]
    const direction = this.sort.descending ? -1 : 1
    return [...this.list].sort((a, b) => (key(a) < key(b) ? -direction : key(a) > key(b) ? direction : 0))
  })

  hasFilter = $derived(Boolean(this.filter.text || this.filter.kind || this.filter.status || this.filter.tag))

  refresh(): Promise<void> {
    return this.listing.reload()
  }

  select(uuid: string | null): void {
    this.selected = uuid
  }

  clearFilter(): void {
    this.filter = { text: '', kind: '', status: '', tag: '', includeDeleted: false }
  }

  sortBy(column: SortColumn): void {
    this.sort = { column, descending: this.sort.column === column ? !this.sort.descending : column === 'started' || column === 'duration' }
  }
}

export const runs = new RunsState()

// The list follows runsChanged (which also fires after a reconnect); a job's bursts of writes cost one refresh.
const refreshList = coalesce(() => runs.refresh(), 150)
api.on('runsChanged', refreshList)

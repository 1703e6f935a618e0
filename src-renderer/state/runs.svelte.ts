// Shared state of the Runs view: the filtered list, the vocabulary for the filters, the selected run's detail.
import type { RunDetail, RunStatus, RunSummary } from '../../src-main/contract/index.ts'
import { api, errorText } from '../lib/api.svelte.ts'
import { runDuration } from '../lib/format.ts'

export type SortColumn = 'name' | 'kind' | 'status' | 'started' | 'duration'

class RunsState {
  filter = $state({ text: '', kind: '', status: '' as RunStatus | '', tag: '', includeDeleted: false })
  sort = $state<{ column: SortColumn; descending: boolean }>({ column: 'started', descending: true })
  list = $state<RunSummary[]>([])
  /** Every kind and tag in the history, whatever the filter, so the filter menus never empty themselves. */
  kinds = $state<string[]>([])
  tags = $state<string[]>([])
  total = $state(0)
  loaded = $state(false)
  error = $state<string | null>(null)
  selected = $state<string | null>(null)
  detail = $state<RunDetail | null>(null)

  sorted = $derived.by(() => {
    const key = (r: RunSummary): string | number =>
      ({ name: r.name.toLowerCase(), kind: r.kind, status: r.status, started: r.startTime ?? r.createdAt, duration: runDuration(r) ?? -1 })[
        this.sort.column
      ]
    const direction = this.sort.descending ? -1 : 1
    return [...this.list].sort((a, b) => (key(a) < key(b) ? -direction : key(a) > key(b) ? direction : 0))
  })

  hasFilter = $derived(Boolean(this.filter.text || this.filter.kind || this.filter.status || this.filter.tag))

  async refresh(): Promise<void> {
    try {
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
      this.list = filtered
      this.total = everything.filter((r) => !r.deleted).length
      this.kinds = [...new Set(everything.map((r) => r.kind))].sort()
      this.tags = [...new Set(everything.flatMap((r) => r.tags))].sort()
      this.error = null
      if (this.selected) await this.loadDetail(this.selected)
    } catch (error) {
      this.error = errorText(error)
    } finally {
      this.loaded = true
    }
  }

  async select(uuid: string | null): Promise<void> {
    this.selected = uuid
    if (uuid) await this.loadDetail(uuid)
    else this.detail = null
  }

  private async loadDetail(uuid: string): Promise<void> {
    try {
      const detail = await api.getRun({ run: uuid })
      if (this.selected === uuid) this.detail = detail
    } catch (error) {
      this.error = errorText(error)
    }
  }

  clearFilter(): void {
    this.filter = { text: '', kind: '', status: '', tag: '', includeDeleted: false }
  }

  sortBy(column: SortColumn): void {
    this.sort = { column, descending: this.sort.column === column ? !this.sort.descending : column === 'started' || column === 'duration' }
  }
}

export const runs = new RunsState()

// Coalesce bursts of change events (a job writes many) into one refresh.
let pending: ReturnType<typeof setTimeout> | null = null
api.on('runsChanged', () => {
  pending ??= setTimeout(() => {
    pending = null
    void runs.refresh()
  }, 150)
})

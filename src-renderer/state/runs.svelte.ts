// Shared state of the Runs view: the run table as pages of `queryRuns` (filtered, sorted and counted by the service;
// only the pages around what is on screen are held), the chosen param and metric columns (remembered in this
// browser), the runs ticked for comparison, and which run's detail is open (the detail follows the change feed itself).
import { z } from 'zod'
import { RunColumn, type RunPage, type RunQuery, type RunRow, type RunSortKey, type RunStatus } from '../../src-main/contract/index.ts'
import { api } from '../lib/api.svelte.ts'
import { coalesce } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { readStored, writeStored } from '../lib/stored.ts'

/** Rows per request, and the most pages held at once (the rest are fetched again when scrolled back to). */
export const PAGE_SIZE = 200
const MAX_PAGES = 4
/** The most runs compared at once (compareRuns takes 20). */
export const MAX_COMPARE = 20

const COLUMNS_KEY = 'benchside.runs.columns'

export type SortKey = RunSortKey
export type Filter = { text: string; kind: string; status: RunStatus | ''; tag: string; includeDeleted: boolean }
const NO_FILTER: Filter = { text: '', kind: '', status: '', tag: '', includeDeleted: false }

/** Whether two sort keys name the same column. */
export function sameSort(a: SortKey, b: SortKey): boolean {
  return typeof a === 'string' || typeof b === 'string' ? a === b : a.kind === b.kind && a.key === b.key
}

class RunsState {
  /** Whether the Runs view is on screen; change events refresh the pages only then (it starts over when it comes back). */
  visible = false
  filter = $state<Filter>({ ...NO_FILTER })
  /** The applied `where` query (the input applies it on Enter once it parses). */
  where = $state('')
  sort = $state.raw<{ by: SortKey; direction: 'asc' | 'desc' }>({ by: 'created', direction: 'desc' })
  columns = $state.raw<RunColumn[]>(readStored(COLUMNS_KEY, z.array(RunColumn).max(40), []))

  /** Held pages by index, for the current query only; a new query starts over. */
  pages = $state.raw<Record<number, Resource<RunPage | null>>>({})
  /** How many runs match, from the newest answer; null before the first. */
  total = $state<number | null>(null)
  /** The rows on screen, as last reported by the table (for which pages to hold and to refresh). */
  private window = { first: 0, last: 0 }
  private generation = 0
  /** The query the held pages answer. */
  private current: RunQuery = {}

  selected = $state<string | null>(null)
  /** Runs ticked for comparison, in the order ticked. */
  chosen = $state<string[]>([])

  hasFilter = $derived(Boolean(this.filter.text || this.filter.kind || this.filter.status || this.filter.tag || this.where))
  /** The first answer (or error) of the current query has come. */
  loaded = $derived(Object.values(this.pages).some((p) => p.loaded))
  error = $derived(Object.values(this.pages).find((p) => p.error)?.error ?? null)

  /** The query the table shows; reading it in an effect makes the effect follow filter, sort, columns and where. */
  query(): RunQuery {
    const f = this.filter
    return {
      text: f.text || undefined,
      kind: f.kind || undefined,
      status: f.status || undefined,
      tag: f.tag || undefined,
      includeDeleted: f.includeDeleted,
      where: this.where.trim() || undefined,
      sort: this.sort,
      columns: this.columns,
    }
  }

  /** Starts over with a query: no page held, the pages on screen fetched. */
  reset(query: RunQuery): void {
    this.generation++
    this.current = query
    this.pages = {}
    this.ensure(0, Math.max(this.window.last - this.window.first, 40))
  }

  /** The table shows rows `first` … `last`: hold the pages they fall in (fetching those missing), drop far ones. */
  ensure(first: number, last: number): void {
    this.window = { first, last }
    // Nothing to fetch before the view has said what to show.
    if (this.generation === 0) return
    const wanted: number[] = []
    for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(Math.max(first, last) / PAGE_SIZE); p++) wanted.push(p)
    const missing = wanted.filter((p) => !(p in this.pages) && (this.total === null || p * PAGE_SIZE < Math.max(this.total, 1)))
    const tooMany = Object.keys(this.pages).length + missing.length > MAX_PAGES
    if (missing.length === 0 && !tooMany) return
    const pages = { ...this.pages }
    if (tooMany) {
      const middle = (first + last) / 2 / PAGE_SIZE
      const far = Object.keys(pages)
        .map(Number)
        .filter((p) => !wanted.includes(p))
        .sort((a, b) => Math.abs(b - middle) - Math.abs(a - middle))
      while (Object.keys(pages).length + missing.length > MAX_PAGES && far.length) delete pages[far.shift()!]
    }
    for (const p of missing) {
      const page = this.page(p)
      pages[p] = page
      void page.reload()
    }
    this.pages = pages
  }

  private page(index: number): Resource<RunPage | null> {
    const generation = this.generation
    const query = { ...this.current, offset: index * PAGE_SIZE, limit: PAGE_SIZE }
    return new Resource(async () => {
      const page = await api.queryRuns(query)
      if (generation === this.generation) this.total = page.total
      return page
    }, null)
  }

  /** Row `i` of the table, when its page has come. */
  row(i: number): RunRow | undefined {
    return this.pages[Math.floor(i / PAGE_SIZE)]?.value?.rows[i % PAGE_SIZE]
  }

  /**
   * Fetches the pages on screen again (the history changed) and lets the others go, since they may be stale; each
   * page keeps showing its rows until its answer comes.
   */
  async refresh(): Promise<void> {
    const { first, last } = this.window
    const onScreen = (p: number) => p >= Math.floor(first / PAGE_SIZE) && p <= Math.floor(Math.max(first, last) / PAGE_SIZE)
    const kept = Object.entries(this.pages).filter(([p]) => onScreen(Number(p)))
    if (this.generation === 0) return
    if (kept.length === 0) return this.reset(this.current)
    this.pages = Object.fromEntries(kept)
    await Promise.all(kept.map(([, page]) => page.reload()))
  }

  select(uuid: string | null): void {
    this.selected = uuid
  }

  clearFilter(): void {
    this.filter = { ...NO_FILTER }
    this.where = ''
  }

  sortBy(by: SortKey): void {
    // Times, durations and metrics start with the largest; names, kinds, statuses and params from the start.
    const downFirst = typeof by === 'string' ? ['created', 'started', 'duration'].includes(by) : by.kind === 'metric'
    const direction = sameSort(this.sort.by, by) ? (this.sort.direction === 'desc' ? 'asc' : 'desc') : downFirst ? 'desc' : 'asc'
    this.sort = { by, direction }
  }

  setColumns(columns: RunColumn[]): void {
    this.columns = columns
    writeStored(COLUMNS_KEY, columns)
    // A sort by a column no longer shown goes back to the newest first.
    if (typeof this.sort.by !== 'string' && !columns.some((c) => sameSort(c, this.sort.by))) this.sort = { by: 'created', direction: 'desc' }
  }

  toggleChosen(uuid: string): void {
    if (this.chosen.includes(uuid)) this.chosen = this.chosen.filter((u) => u !== uuid)
    else if (this.chosen.length < MAX_COMPARE) this.chosen = [...this.chosen, uuid]
  }
}

export const runs = new RunsState()

/** The param and metric keys for the column chooser; fetched when it opens. */
export const runColumns = new Resource(() => api.runColumns({ includeDeleted: runs.filter.includeDeleted }), {
  params: [] as string[],
  metrics: [] as string[],
})

// The held pages follow runsChanged (which also fires after a reconnect); a job's bursts of writes cost one refresh.
const refreshPages = coalesce(() => runs.visible && runs.refresh(), 250)
api.on('runsChanged', refreshPages)

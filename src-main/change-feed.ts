// The change feed: turns what the store says changed (in this process or any other sharing the data folder) into
// typed events. Every host runs one; views subscribe to runUpdated and fetch deltas instead of polling whole runs.
import type { RunSummary } from './contract/index.ts'
import type { EventHub } from './event-hub.ts'
import type { FeedCursor } from './store/changes.ts'
import type { Store } from './store/store.ts'

export interface ChangeFeedOptions {
  /** How often the database is checked for other processes' writes. */
  intervalMs?: number
}

export class ChangeFeed {
  private cursor: FeedCursor
  private readonly timer: NodeJS.Timeout
  private poked: NodeJS.Timeout | null = null

  constructor(
    private readonly store: Store,
    private readonly events: EventHub,
    options: ChangeFeedOptions = {},
  ) {
    store.changes.prune()
    this.cursor = store.changes.cursor()
    this.timer = setInterval(() => this.check(), options.intervalMs ?? 250)
    this.timer.unref()
  }

  /** This process wrote something: tell listeners soon, without waiting for the next tick. Bursts coalesce. */
  poke(): void {
    this.poked ??= setTimeout(() => {
      this.poked = null
      this.check()
    }, 20)
  }

  /** Reads what changed since the last check and emits it; never throws (a locked or closed database waits a tick). */
  check(): void {
    if (!this.store.db.open) return
    let changed: ReturnType<Store['changes']['since']>
    try {
      changed = this.store.changes.since(this.cursor)
    } catch {
      return
    }
    this.cursor = changed.cursor
    if (changed.runs.length === 0) return
    const summaries: RunSummary[] = []
    for (const change of changed.runs) {
      try {
        summaries.push(this.store.runs.summary(change.runUuid))
      } catch {
        continue // deleted for good in the meantime
      }
      this.events.emit('runUpdated', { run: summaries.at(-1)!, metricsSince: change.metricsSince, cellsSince: change.cellsSince })
    }
    this.events.emit('runsChanged', { runUuids: summaries.map((s) => s.uuid) })
  }

  close(): void {
    clearInterval(this.timer)
    if (this.poked) clearTimeout(this.poked)
  }
}

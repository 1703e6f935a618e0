// The change feed: turns what the store says changed (in this process or any other sharing the data folder) into
// typed events. Every host runs one; views subscribe to runUpdated and fetch deltas instead of polling whole runs.
// It also carries jobs across processes: this process's job progress is mirrored into the store, other processes'
// progress comes back as jobProgress events, and cancel requests for this process's jobs are handed to its manager.
import { hostname } from 'node:os'
import type { JobProgress, RunSummary } from './contract/index.ts'
import type { EventHub } from './event-hub.ts'
import type { FeedCursor } from './store/changes.ts'
import type { Store } from './store/store.ts'

export interface ChangeFeedOptions {
  /** How often the database is checked for other processes' writes. */
  intervalMs?: number
  /** The process whose jobs this feed mirrors (the job manager's owner); this process by default. */
  owner?: { pid: number; host: string }
}

/** A running job's progress is written to the store at most this often (state changes at once). */
const MIRROR_INTERVAL_MS = 1000

export class ChangeFeed {
  private cursor: FeedCursor
  private readonly timer: NodeJS.Timeout
  private poked: NodeJS.Timeout | null = null
  private readonly owner: { pid: number; host: string }
  private jobCursor: number
  /** Set while this feed emits other processes' progress, so it is not mirrored back as this process's. */
  private relaying = false
  /** The last progress of each of this process's jobs, and when it was last written to the store. */
  private readonly mirrored = new Map<string, { progress: JobProgress; writtenAt: number; written: boolean }>()
  private cancelHandler: ((runUuid: string) => boolean) | null = null

  constructor(
    private readonly store: Store,
    private readonly events: EventHub,
    options: ChangeFeedOptions = {},
  ) {
    store.changes.prune()
    this.cursor = store.changes.cursor()
    this.owner = options.owner ?? { pid: process.pid, host: hostname() }
    this.jobCursor = this.safely(() => (store.runs.pruneJobs(), store.runs.jobProgressCursor())) ?? 0
    events.on(({ event, payload }) => {
      if (event === 'jobProgress' && !this.relaying) this.mirror(payload)
    })
    this.timer = setInterval(() => this.check(), options.intervalMs ?? 250)
    this.timer.unref()
  }

  /**
   * Who acts on cancel requests for this process's jobs (made by another host sharing the folder). Returns whether the
   * job was this process's to cancel; a request nobody here could act on stays for the process that can.
   */
  onCancelRequest(handler: (runUuid: string) => boolean): void {
    this.cancelHandler = handler
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
    this.flushMirror(false)
    this.relayJobs()
    this.takeCancelRequests()
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

  /** A progress report of this process's job: written at once when its state changes, else at most once a second. */
  private mirror(progress: JobProgress): void {
    const last = this.mirrored.get(progress.runUuid)
    const entry = { progress, writtenAt: last?.writtenAt ?? 0, written: false }
    this.mirrored.set(progress.runUuid, entry)
    if (!last || last.progress.state !== progress.state || Date.now() - entry.writtenAt >= MIRROR_INTERVAL_MS) this.write(entry)
  }

  private write(entry: { progress: JobProgress; writtenAt: number; written: boolean }): void {
    if (!this.store.db.open) return
    try {
      this.store.runs.writeJobProgress(entry.progress.runUuid, this.owner, entry.progress)
    } catch {
      return // a locked database leaves the entry unwritten; the next tick tries again
    }
    entry.written = true
    entry.writtenAt = Date.now()
    const ended = entry.progress.state !== 'queued' && entry.progress.state !== 'running'
    if (ended) this.mirrored.delete(entry.progress.runUuid)
  }

  /** Writes what the throttle held back (all of it when the feed closes). */
  private flushMirror(all: boolean): void {
    for (const entry of [...this.mirrored.values()]) {
      if (!entry.written && (all || Date.now() - entry.writtenAt >= MIRROR_INTERVAL_MS)) this.write(entry)
    }
  }

  /** Other processes' job progress, as jobProgress events for this host's trays. */
  private relayJobs(): void {
    const since = this.safely(() => this.store.runs.jobProgressSince(this.jobCursor, this.owner))
    if (!since) return
    this.jobCursor = since.cursor
    this.relaying = true
    try {
      for (const progress of since.jobs) this.events.emit('jobProgress', progress)
    } finally {
      this.relaying = false
    }
  }

  private takeCancelRequests(): void {
    if (!this.cancelHandler) return
    for (const runUuid of this.safely(() => this.store.runs.cancelRequestsFor(this.owner)) ?? []) {
      let handled = false
      try {
        handled = this.cancelHandler(runUuid)
      } catch {
        handled = true // it ended on its own meanwhile: nothing left to cancel
      }
      if (handled) this.safely(() => this.store.runs.dropCancelRequest(runUuid))
    }
  }

  private safely<T>(read: () => T): T | undefined {
    try {
      return read()
    } catch {
      return undefined
    }
  }

  close(): void {
    this.flushMirror(true)
    clearInterval(this.timer)
    if (this.poked) clearTimeout(this.poked)
  }
}

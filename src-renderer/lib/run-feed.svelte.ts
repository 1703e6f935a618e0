// Runs followed through the change feed instead of polling: a followed run's detail is fetched once, then kept current
// by asking only for the metrics logged after the last answer's cursor whenever runUpdated names the run.
import { untrack } from 'svelte'
import type { EventOf, RunDetail, Unsubscribe } from '../../src-main/contract/index.ts'
import { api, errorText, onReconnect } from './api.svelte.ts'

/** A runUpdated event, and whether the run's status moved since the last event this page saw for it. */
export type RunChange = EventOf<'runUpdated'> & { statusChanged: boolean }

export class FollowedRun {
  /** Replaced, never mutated: a run's metrics can be long, and views redraw on a new object. */
  detail = $state.raw<RunDetail | null>(null)
  error = $state<string | null>(null)
  readonly uuid: string
  users = 0
  private busy = false
  private next: 'delta' | 'full' | null = null

  constructor(uuid: string) {
    this.uuid = uuid
  }

  /**
   * Fetches what is new (everything when nothing is held yet, or when `full`). One request at a time: what is asked
   * meanwhile runs once after it, so a burst of events costs at most two requests.
   */
  fetch(full = false): void {
    if (this.busy) {
      this.next = full || this.next === 'full' ? 'full' : 'delta'
      return
    }
    this.busy = true
    void this.request(full).finally(() => {
      this.busy = false
      const next = this.next
      this.next = null
      if (next && this.users > 0) this.fetch(next === 'full')
    })
  }

  /** The event's record is newer than what is held: show it now; params, notes and artifacts come with the fetch. */
  changed(change: RunChange): void {
    if (this.detail) this.detail = { ...this.detail, ...change.run }
    this.fetch()
  }

  private async request(full: boolean): Promise<void> {
    const held = full ? null : this.detail
    try {
      const answer = await api.getRun(held ? { run: this.uuid, since: held.cursor } : { run: this.uuid })
      this.detail = held ? { ...answer, metrics: held.metrics.concat(answer.metrics) } : answer
      this.error = null
    } catch (error) {
      this.error = errorText(error)
    }
  }
}

// Registries, not state: nothing renders from them (each FollowedRun's own fields are the reactive part).
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const followed = new Map<string, FollowedRun>()
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const listeners = new Set<(change: RunChange) => void>()
/** The last status seen per run, to tell a status change from other changes. */
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const statuses = new Map<string, string>()

/** Starts following a run (or joins those who do); pair with release(). */
export function follow(uuid: string): FollowedRun {
  let run = followed.get(uuid)
  if (!run) {
    followed.set(uuid, (run = new FollowedRun(uuid)))
    run.fetch(true)
  }
  run.users++
  return run
}

export function release(run: FollowedRun): void {
  run.users--
  if (run.users <= 0 && followed.get(run.uuid) === run) followed.delete(run.uuid)
}

/** In a component: the run `uuid()` names, followed while the component lives and the uuid stays. */
export function useRun(uuid: () => string | null): { readonly detail: RunDetail | null; readonly error: string | null; refresh(): void } {
  let current = $state<FollowedRun | null>(null)
  $effect(() => {
    const id = uuid()
    if (!id) {
      current = null
      return
    }
    // Following reads the held detail; that must not make this effect re-run when the detail changes.
    const run = untrack(() => follow(id))
    current = run
    return () => release(run)
  })
  return {
    get detail() {
      return current?.detail ?? null
    },
    get error() {
      return current?.error ?? null
    },
    refresh: () => current?.fetch(),
  }
}

/** Every change of any run, for views that re-fetch a computed result (a sweep, a study) or patch a list. */
export function onRunChanged(listener: (change: RunChange) => void): Unsubscribe {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Whether a change may alter what a run computed: new metrics or sweep cells, or a new status. */
export function grewOrMoved(change: RunChange): boolean {
  return change.metricsSince !== null || change.cellsSince !== null || change.statusChanged
}

api.on('runUpdated', (update) => {
  const statusChanged = statuses.get(update.run.uuid) !== update.run.status
  statuses.set(update.run.uuid, update.run.status)
  const change: RunChange = { ...update, statusChanged }
  followed.get(update.run.uuid)?.changed(change)
  for (const listener of listeners) listener(change)
})

// Events sent while the link was down are lost: what is held may be behind, so fetch it whole once.
onReconnect(() => {
  for (const run of followed.values()) run.fetch(true)
})

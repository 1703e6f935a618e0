// One async value with its loading flag and error: reload() fetches again, and an answer that arrives after a newer
// request was made is dropped, so a slow answer for what was selected before never replaces the current one.
import { errorText } from './api.svelte.ts'

export class Resource<T> {
  /** Replaced by each answer, never changed in place (so large lists are not made deeply reactive). */
  value = $state.raw<T>() as T
  error = $state<string | null>(null)
  loading = $state(false)
  /** Whether an answer (value or error) has arrived since the last reset. */
  loaded = $state(false)
  private request = 0
  private readonly fetcher: () => Promise<T>
  private readonly initial: T

  /**
   * `fetcher` reads what it needs (the selected id, say) when called. Called from an $effect, reload() makes that
   * effect depend on what the fetcher read before its first await, so the value follows the selection by itself.
   */
  constructor(fetcher: () => Promise<T>, initial: T) {
    this.fetcher = fetcher
    this.initial = initial
    this.value = initial
  }

  async reload(): Promise<void> {
    const request = ++this.request
    this.loading = true
    try {
      const value = await this.fetcher()
      if (request !== this.request) return
      this.value = value
      this.error = null
    } catch (error) {
      if (request !== this.request) return
      this.error = errorText(error)
    } finally {
      if (request === this.request) {
        this.loading = false
        this.loaded = true
      }
    }
  }

  /** Back to the initial value; answers still on their way are dropped. */
  reset(): void {
    this.request++
    this.value = this.initial
    this.error = null
    this.loading = false
    this.loaded = false
  }

  /** A value known without asking (an action's answer); answers still on their way are dropped. */
  set(value: T): void {
    this.request++
    this.value = value
    this.error = null
    this.loading = false
    this.loaded = true
  }
}

/** `new Resource(fetcher, initial)`, shorter in components. */
export function resource<T>(fetcher: () => Promise<T>, initial: T): Resource<T> {
  return new Resource(fetcher, initial)
}

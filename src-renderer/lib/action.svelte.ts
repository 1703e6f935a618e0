// A button's action as the Devices panels run them: one at a time, "Doing it…" while it runs, then what it did or why
// it failed, and a refresh of whatever it changed.
import { errorText } from './api.svelte.ts'

export class Action {
  busy = $state(false)
  message = $state<string | null>(null)
  error = $state<string | null>(null)

  constructor(private readonly refresh: () => Promise<unknown>) {}

  /** Runs `work`, whose answer is the sentence to show; `label` is shown while it runs. */
  async run(label: string, work: () => Promise<string>): Promise<void> {
    this.busy = true
    this.message = `${label}…`
    this.error = null
    try {
      this.message = await work()
      await this.refresh()
    } catch (e) {
      this.error = errorText(e)
      this.message = null
    } finally {
      this.busy = false
    }
  }
}

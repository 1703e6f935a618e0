// Boards for the Devices and Operators views: the list, the chosen board, its latest roofline study. A roofline run
// that finishes (here or from the CLI) refreshes the study through the change feed.
import type { BoardSummary, RooflineStudy } from '../../src-main/contract/index.ts'
import { api } from '../lib/api.svelte.ts'
import { coalesce } from '../lib/coalesce.ts'
import { Resource } from '../lib/resource.svelte.ts'
import { onRunChanged } from '../lib/run-feed.svelte.ts'

class BoardsState {
  listing = new Resource(() => api.listBoards({}), [] as BoardSummary[])
  list = $derived(this.listing.value)
  selected = $state('local')
  study = new Resource<RooflineStudy | null>(() => api.getRoofline({ board: this.selected }), null)
  roofline = $derived(this.study.value)
  error = $derived(this.listing.error ?? this.study.error)
  loaded = $derived(this.study.loaded)

  async refresh(): Promise<void> {
    await this.listing.reload()
    if (!this.list.some((b) => b.id === this.selected)) this.selected = 'local'
    await this.study.reload()
  }

  async select(id: string): Promise<void> {
    this.selected = id
    this.study.reset()
    await this.study.reload()
  }
}

export const boards = new BoardsState()

const refreshStudy = coalesce(() => boards.study.reload(), 200)
onRunChanged((change) => {
  if (change.run.kind === 'roofline' && change.statusChanged && change.run.status === 'FINISHED') refreshStudy()
})

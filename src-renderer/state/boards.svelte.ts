// Boards for the Devices and Operators views: the list, the chosen board, its latest roofline study.
import type { BoardSummary, RooflineStudy } from '../../src-main/contract/index.ts'
import { api, errorText } from '../lib/api.svelte.ts'

class BoardsState {
  list = $state<BoardSummary[]>([])
  selected = $state('local')
  roofline = $state<RooflineStudy | null>(null)
  error = $state<string | null>(null)
  loaded = $state(false)

  async refresh(): Promise<void> {
    try {
      this.list = await api.listBoards({})
      if (!this.list.some((b) => b.id === this.selected)) this.selected = 'local'
      this.roofline = await api.getRoofline({ board: this.selected })
      this.error = null
    } catch (error) {
      this.error = errorText(error)
    } finally {
      this.loaded = true
    }
  }

  async select(id: string): Promise<void> {
    this.selected = id
    this.roofline = null
    await this.refresh()
  }
}

export const boards = new BoardsState()

api.on('runsChanged', () => void boards.refresh())

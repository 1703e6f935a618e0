// The boards Benchside knows and a lock per board, so two jobs never measure on one board at once:
// withBoard(id, fn) waits its turn in FIFO order and can be cancelled while waiting.
import { BoardError, type Board } from './board.ts'
import { LOCAL_BOARD_ID, LocalBoard } from './local-board.ts'

/** A FIFO async mutex: waiters get the lock in arrival order; an aborted waiter leaves the queue. */
export class FifoMutex {
  private held = false
  private readonly queue: { grant: () => void }[] = []

  get locked(): boolean {
    return this.held
  }

  get waiting(): number {
    return this.queue.length
  }

  acquire(signal?: AbortSignal, onAbort?: () => Error): Promise<() => void> {
    const release = this.releaser()
    if (!this.held && this.queue.length === 0) {
      this.held = true
      return Promise.resolve(release)
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', abort)
          resolve(release)
        },
      }
      const abort = () => {
        const index = this.queue.indexOf(waiter)
        if (index >= 0) this.queue.splice(index, 1)
        reject(onAbort?.() ?? new Error('Cancelled while waiting for the lock.'))
      }
      if (signal?.aborted) return abort()
      signal?.addEventListener('abort', abort, { once: true })
      this.queue.push(waiter)
    })
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.queue.shift()
      if (next) next.grant()
      else this.held = false
    }
  }
}

export interface BoardPoolOptions {
  /** Configured boards; a LocalBoard with id "local" is added when none has that id. */
  boards?: Board[]
  /** Benchside's data folder, where the local board compiles its agent. */
  dataDir: string
  /** The board used when a job names none; defaults to "local". */
  defaultId?: string
}

export class BoardPool {
  private readonly boards = new Map<string, Board>()
  private readonly locks = new Map<string, FifoMutex>()
  readonly defaultId: string

  constructor(options: BoardPoolOptions) {
    for (const board of options.boards ?? []) this.register(board)
    if (!this.boards.has(LOCAL_BOARD_ID)) this.register(new LocalBoard({ dataDir: options.dataDir }))
    this.defaultId = options.defaultId ?? LOCAL_BOARD_ID
  }

  register(board: Board): void {
    if (this.boards.has(board.id)) throw new BoardError('BUSY', `A board with the id '${board.id}' is already registered; board ids must be unique.`)
    this.boards.set(board.id, board)
    this.locks.set(board.id, new FifoMutex())
  }

  /** Forgets a board (closing its connection); a job holding it keeps its reference until it finishes. */
  async unregister(id: string): Promise<boolean> {
    const board = this.boards.get(id)
    if (!board) return false
    this.boards.delete(id)
    this.locks.delete(id)
    await board.close()
    return true
  }

  ids(): string[] {
    return [...this.boards.keys()]
  }

  get(id: string = this.defaultId): Board {
    const board = this.boards.get(id)
    if (!board) throw new BoardError('AGENT', `No board has the id '${id}'; the known boards are ${this.ids().join(', ')}.`)
    return board
  }

  /** Runs fn with the board while holding its lock; other callers for the same board wait their turn. */
  async withBoard<T>(id: string | undefined, fn: (board: Board) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const board = this.get(id)
    const release = await this.locks
      .get(board.id)!
      .acquire(options.signal, () => new BoardError('CANCELLED', `Cancelled while waiting for board '${board.id}', which another job is using.`))
    try {
      return await fn(board)
    } finally {
      release()
    }
  }

  /** Whether a job holds the board now, and how many wait for it. */
  status(id: string): { busy: boolean; waiting: number } {
    const lock = this.locks.get(this.get(id).id)!
    return { busy: lock.locked, waiting: lock.waiting }
  }

  async close(): Promise<void> {
    await Promise.all([...this.boards.values()].map((b) => b.close()))
  }
}

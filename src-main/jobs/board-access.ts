// One measurement per board at a time: a FIFO lock inside this process (BoardPool) plus a lease in the database,
// so a CLI and the app never measure on the same board at once either.
import { hostname } from 'node:os'
import { BenchsideError } from '../contract/index.ts'
import type { Board } from '../hardware/board.ts'
import type { BoardPool } from '../hardware/board-pool.ts'
import type { BoardsRepository } from '../store/boards.ts'

const POLL_MS = 250

export class BoardAccess {
  constructor(
    readonly pool: BoardPool,
    private readonly leases: BoardsRepository,
    private readonly isAlive: (pid: number) => boolean,
  ) {}

  get(id?: string): Board {
    return this.pool.get(id)
  }

  async withBoard<T>(
    id: string | undefined,
    runUuid: string | null,
    fn: (board: Board) => Promise<T>,
    options: { signal?: AbortSignal; onWait?: (message: string) => void } = {},
  ): Promise<T> {
    return this.pool.withBoard(
      id,
      async (board) => {
        const owner = { pid: process.pid, host: hostname(), runUuid }
        for (;;) {
          const holder = this.leases.tryLease(board.id, owner, this.isAlive)
          if (!holder) break
          options.onWait?.(
            `waiting for board '${board.id}', in use by ${holder.runUuid ? `run ${holder.runUuid.slice(0, 8)}` : 'another process'} (pid ${holder.pid})`,
          )
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, POLL_MS)
            options.signal?.addEventListener(
              'abort',
              () => (clearTimeout(timer), reject(new BenchsideError({ code: 'CONFLICT', message: `Cancelled while waiting for board '${board.id}'.` }))),
              { once: true },
            )
          })
        }
        try {
          return await fn(board)
        } finally {
          this.leases.releaseLease(board.id, process.pid)
        }
      },
      { signal: options.signal },
    )
  }
}

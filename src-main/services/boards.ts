// Boards: this computer and SSH boards — add (trust on first use, compile, register), test, remove; the latency table.
import { join } from 'node:path'
import { BenchsideError, type BoardSummary } from '../contract/index.ts'
import type { Board, BoardInfo } from '../hardware/board.ts'
import { BoardPool } from '../hardware/board-pool.ts'
import { dtypeOf, measureOnBoard, shapeKey } from '../hardware/roofline-study.ts'
import type { BoardAccess } from '../jobs/board-access.ts'
import { hostId, JsonFileKnownHosts } from '../hardware/known-hosts.ts'
import { layerTimingKey } from '../hardware/layer-latency.ts'
import { LOCAL_BOARD_ID, LocalBoard } from '../hardware/local-board.ts'
import { SshBoard } from '../hardware/ssh-board.ts'
import type { BoardRow } from '../store/boards.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import { loadEngine } from './lazy-engine.ts'
import { boardLayersOfModel, type ModelCatalog } from './models.ts'
import { readResult } from './results.ts'

type BoardMethod =
  | 'measureOperation'
  | 'listBoards'
  | 'addBoard'
  | 'testBoard'
  | 'removeBoard'
  | 'forgetHostKey'
  | 'unlockBoard'
  | 'exportLatencyTable'
  | 'importLatencyTable'
  | 'getRoofline'
  | 'getLayerLatency'

export function knownHostsOf(store: Store): JsonFileKnownHosts {
  return new JsonFileKnownHosts(join(store.dataDir, 'known_hosts.json'))
}

function sshBoard(row: Pick<BoardRow, 'id' | 'host' | 'port' | 'username' | 'keyPath'>, knownHosts: JsonFileKnownHosts, passphrase?: string): SshBoard {
  const privateKeyPath = row.keyPath ?? undefined
  return new SshBoard({ id: row.id, host: row.host, port: row.port, username: row.username, privateKeyPath, passphrase, knownHosts })
}

/** Connects a new board object and reads its INFO; closes it again when that fails. */
async function connected(board: SshBoard): Promise<BoardInfo> {
  try {
    await board.connect()
    return await board.info()
  } catch (error) {
    await board.close()
    throw error
  }
}

/** The pool every measurement goes through: the local board plus every SSH board in the store. */
export function createBoardPool(store: Store): BoardPool {
  const knownHosts = knownHostsOf(store)
  return new BoardPool({
    dataDir: store.dataDir,
    boards: [new LocalBoard({ dataDir: store.dataDir }), ...store.boards.list().map((row) => sshBoard(row, knownHosts))],
  })
}

function testResult(info: BoardInfo) {
  return {
    id: info.boardId,
    arch: info.arch,
    os: info.os,
    cores: info.cores,
    simd: info.simd,
    compiler: info.compiler,
    cflags: info.cflags,
    openmp: info.openmp,
    agentVersion: info.agentVersion,
    operations: info.operations,
  }
}

function notFound(board: string): BenchsideError {
  return new BenchsideError({ code: 'NOT_FOUND', field: 'board', message: `No board has the id '${board}'. 'benchside boards list' shows them.` })
}

export function boardHandlers(store: Store, pool: BoardPool, access: BoardAccess, models: ModelCatalog): HandlersFor<BoardMethod> {
  const knownHosts = knownHostsOf(store)
  const summary = (row: BoardRow): BoardSummary => ({
    id: row.id,
    name: row.name,
    kind: 'ssh',
    address: `${row.username}@${row.host}:${row.port}`,
    fingerprint: knownHosts.get(hostId(row.host, row.port))?.fingerprint ?? null,
  })
  const local: BoardSummary = { id: LOCAL_BOARD_ID, name: 'This computer', kind: 'local', address: 'local', fingerprint: null }

  /** The result of the newest FINISHED run of `kind` whose params match, with which run measured it and when. */
  const latestResult = <K extends 'roofline'>(kind: K, params: Record<string, string>) => {
    for (const run of store.runs.list({ kind, status: 'FINISHED' })) {
      const runParams = store.runs.params(run.uuid)
      if (!Object.entries(params).every(([k, v]) => runParams[k] === v)) continue
      const result = readResult(store, run.uuid, kind)
      if (result) return { ...result, runUuid: run.uuid, measuredAt: run.endTime ?? run.createdAt }
    }
    return null
  }

  return {
    measureOperation: ({ board, operation, args, force }) =>
      access.withBoard(board, null, async (b) => {
        const info = await b.info()
        const key = { boardId: b.id, agentVersion: info.agentVersion, operation, shape: shapeKey(args), ...dtypeOf(operation, args) }
        const before = store.latency.get(key)
        const answer = await measureOnBoard(b, info, store.latency, operation, args, { force })
        const entry = store.latency.get(key)!
        return {
          cached: before !== null && !force && before.measuredAt === entry.measuredAt,
          medianS: entry.medianS,
          minS: entry.minS,
          maxS: entry.maxS,
          answer,
        }
      }),

    getRoofline: ({ board }) => latestResult('roofline', { board }),

    getLayerLatency: async ({ board, model, policy }) => {
      const uuid = store.runs.resolve(model)
      await loadEngine()
      const metadata = models.metadata(uuid)
      // Keyed by what the time depends on (architecture, layer shapes, policy), not by the model: another training
      // of the same network shows the same timing. Runs from before the key was logged match by their model.
      const key = layerTimingKey(metadata.spec.architecture, boardLayersOfModel(metadata).layers, policy ?? null)
      for (const run of store.runs.list({ kind: 'layer-latency', status: 'FINISHED' })) {
        const params = store.runs.params(run.uuid)
        if (params['board'] !== board) continue
        const matches =
          params['layers_key'] !== undefined
            ? params['layers_key'] === key
            : params['model_uuid'] === uuid && (params['policy'] === undefined) === (policy === undefined)
        if (!matches) continue
        const result = readResult(store, run.uuid, 'layer-latency')
        if (result) return { ...result, runUuid: run.uuid, measuredAt: run.endTime ?? run.createdAt, model: params['model_uuid'] ?? null }
      }
      return null
    },

    listBoards: () => [local, ...store.boards.list().map(summary)],

    addBoard: async (args) => {
      if (pool.ids().includes(args.id)) throw new BenchsideError({ code: 'CONFLICT', field: 'id', message: `A board with the id '${args.id}' exists already.` })
      const row: BoardRow = {
        id: args.id,
        name: args.name ?? args.id,
        host: args.host,
        port: args.port,
        username: args.username,
        keyPath: args.keyPath ?? null,
        createdAt: Date.now(),
      }
      const hadKey = knownHosts.get(hostId(row.host, row.port)) !== undefined
      const board = sshBoard(row, knownHosts, args.passphrase)
      let info: BoardInfo
      try {
        info = await connected(board)
      } catch (error) {
        // A failed add leaves nothing behind, not even a host key it trusted on this first contact.
        if (!hadKey) knownHosts.forget(hostId(row.host, row.port))
        throw error
      }
      store.boards.insert(row)
      pool.register(board)
      return { ...summary(row), test: testResult(info) }
    },

    testBoard: async ({ board }) => testResult(await (pool.get(board) as Board).info()),

    removeBoard: async ({ board }) => {
      if (board === LOCAL_BOARD_ID)
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'board', message: 'This computer is always a board; it cannot be removed.' })
      const row = store.boards.list().find((b) => b.id === board)
      if (!row) throw notFound(board)
      store.boards.remove(board)
      await pool.unregister(board)
      // The key goes with the board, unless another board is the same host (a second user account, say).
      const host = hostId(row.host, row.port)
      if (!store.boards.list().some((b) => hostId(b.host, b.port) === host)) knownHosts.forget(host)
      return { removed: true }
    },

    unlockBoard: async ({ board, passphrase }) => {
      const row = store.boards.list().find((b) => b.id === board)
      if (!row) throw notFound(board)
      // A new board object holds the passphrase; it replaces the pool's only once it has connected with it.
      const unlocked = sshBoard(row, knownHosts, passphrase)
      const info = await connected(unlocked)
      await pool.unregister(board)
      pool.register(unlocked)
      return testResult(info)
    },

    forgetHostKey: async ({ board }) => {
      if (board === LOCAL_BOARD_ID)
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'board', message: 'This computer has no host key; it is reached without SSH.' })
      const row = store.boards.list().find((b) => b.id === board)
      if (!row) throw notFound(board)
      const host = hostId(row.host, row.port)
      const forgotten = knownHosts.get(host)?.fingerprint ?? null
      knownHosts.forget(host)
      // A connection made with the old key must not outlive it.
      await (pool.get(board) as Board).close()
      return { forgotten }
    },

    exportLatencyTable: ({ board }) => {
      const csv = store.latency.exportCsv(board ? { boardId: board } : {})
      return { csv, rows: Math.max(0, csv.trim().split('\n').length - 1) }
    },

    importLatencyTable: async ({ csv }) => ({ rows: await store.latency.importCsv(csv) }),
  }
}

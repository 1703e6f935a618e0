// The parent's side of latency-rpc.ts: answers a job's network-latency requests from the latency table, or measures
// on the board once (through BoardAccess, so the board's FIFO and lease hold) and stores the timing.
import { BenchsideError } from '../contract/index.ts'
import { agentModel, measureLayerLatency, type LayerShape } from '../hardware/layer-latency.ts'
import type { LatencyEntry, LatencyKey, LatencyTable } from '../store/latency-table.ts'
import type { BoardAccess } from './board-access.ts'
import { isLatencyRequest, type LatencyReply, type NetworkLatency } from './latency-rpc.ts'
import type { FromJob, JobProcess, ToJob } from './protocol.ts'

export interface LatencyServerDeps {
  boards: BoardAccess
  latency: LatencyTable
}

const FLOAT_BITS = 32

function networkKey(boardId: string, agentVersion: string, layers: readonly LayerShape[], bits: readonly number[]): LatencyKey {
  return { boardId, agentVersion, operation: 'network', shape: agentModel(layers), dtype: bits.map((b) => (b > 8 ? FLOAT_BITS : b)).join(','), layout: '' }
}

function networkLatency(entry: LatencyEntry, layers: number, cached: boolean): NetworkLatency {
  const layersS = (entry.raw as { layersS?: unknown } | null)?.layersS
  if (!Array.isArray(layersS) || layersS.length !== layers || !layersS.every((v) => typeof v === 'number')) {
    throw new BenchsideError({
      code: 'INTERNAL',
      message: `The latency table's entry for this network on '${entry.boardId}' has no per-layer times; re-measure it.`,
    })
  }
  return { totalS: entry.medianS, layersS: layersS as number[], cached }
}

/** The network's timing if the latency table holds it for this board; never measures. */
export async function storedNetwork(
  deps: LatencyServerDeps,
  boardId: string,
  layers: readonly LayerShape[],
  bits: readonly number[],
): Promise<NetworkLatency | null> {
  const board = deps.boards.get(boardId)
  const entry = deps.latency.get(networkKey(board.id, (await board.info()).agentVersion, layers, bits))
  return entry ? networkLatency(entry, layers.length, true) : null
}

/** The table's timing of a whole network on a board (keyed by its layer shapes and bits), else measured once and stored. */
export async function measureNetwork(
  deps: LatencyServerDeps,
  boardId: string,
  layers: readonly LayerShape[],
  bits: readonly number[],
  options: { runUuid?: string | null; signal?: AbortSignal } = {},
): Promise<NetworkLatency> {
  const board = deps.boards.get(boardId)
  const key = networkKey(board.id, (await board.info()).agentVersion, layers, bits)
  const stored = deps.latency.get(key)
  if (stored) return networkLatency(stored, layers.length, true)
  // The lease is taken only to measure: answers from the table never wait for a busy board.
  const entry = await deps.boards.withBoard(
    board.id,
    options.runUuid ?? null,
    () =>
      deps.latency.measureOnce(key, async () => {
        const timed = await measureLayerLatency(
          board,
          layers,
          bits.map((b) => ({ keep: 1, bits: b })),
          { signal: options.signal },
        )
        const sum = (pick: (l: (typeof timed.layers)[number]) => number) => timed.layers.reduce((s, l) => s + pick(l), 0)
        return { medianS: timed.totalS, minS: sum((l) => l.minS), maxS: sum((l) => l.maxS), raw: { layersS: timed.layers.map((l) => l.medianS) } }
      }),
    { signal: options.signal },
  )
  return networkLatency(entry, layers.length, false)
}

/** Wraps a job process so its latency requests are answered here and never reach the job manager. */
export function serveLatency(child: JobProcess, deps: LatencyServerDeps): JobProcess {
  let runUuid: string | null = null
  const abort = new AbortController()
  child.onMessage((message) => {
    if (!isLatencyRequest(message)) return
    const { id, board, layers, bits } = message
    measureNetwork(deps, board, layers, bits, { runUuid, signal: abort.signal }).then(
      (latency) => reply({ type: 'latency-reply', id, ok: true, latency }),
      (error: unknown) =>
        reply({
          type: 'latency-reply',
          id,
          ok: false,
          error: error instanceof BenchsideError ? error.toPayload() : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
        }),
    )
  })
  const reply = (message: LatencyReply) => {
    // The job may have ended while the board measured; the table keeps the timing for next time.
    if (!abort.signal.aborted) child.send(message)
  }
  child.onExit(() => abort.abort(new Error('The job ended.')))
  return {
    get pid() {
      return child.pid
    },
    send(message: ToJob) {
      if (message.type === 'start') runUuid = message.runUuid
      child.send(message)
    },
    onMessage: (listener) =>
      child.onMessage((message: FromJob) => {
        if (!isLatencyRequest(message)) listener(message)
      }),
    onExit: (listener) => child.onExit(listener),
    kill(signal) {
      child.kill(signal)
    },
  }
}

// Network latency on an agent board, asked for by a job process: the parent owns the boards and the latency table,
// so a job sends the layer shapes and bits, the parent answers from the table or measures once (holding the board's
// lease only while it measures), and replies. Used by the compression jobs.
import { BenchsideError, type ErrorPayload } from '../contract/index.ts'
import type { LayerShape } from '../hardware/layer-latency.ts'
import type { ToJob } from './protocol.ts'

export interface NetworkLatency {
  /** Median of the whole network (the sum of its layers' medians). */
  totalS: number
  /** Per layer, in the order asked. */
  layersS: number[]
  /** True when the latency table already held this network on this board. */
  cached: boolean
}

export interface LatencyRequest {
  type: 'latency-request'
  id: number
  board: string
  layers: LayerShape[]
  /** Per layer: 1…8 or 32 (the agent times 9 bits and more as float). */
  bits: number[]
}

export type LatencyReply = { type: 'latency-reply'; id: number } & ({ ok: true; latency: NetworkLatency } | { ok: false; error: ErrorPayload })

export function isLatencyRequest(message: unknown): message is LatencyRequest {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'latency-request'
}

/** The job's side: one pending promise per request, settled by the parent's reply. */
export class LatencyClient {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (latency: NetworkLatency) => void; reject: (error: Error) => void }>()

  constructor(private readonly send: (message: LatencyRequest) => void) {}

  measure(board: string, layers: LayerShape[], bits: number[], signal?: AbortSignal): Promise<NetworkLatency> {
    if (layers.length !== bits.length) throw new Error(`${layers.length} layers but ${bits.length} bit widths.`)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error)
      // The job stops waiting; the parent stops measuring when the job process ends.
      const onAbort = () => (this.pending.delete(id), reject(signal!.reason as Error))
      signal?.addEventListener('abort', onAbort, { once: true })
      const done = () => signal?.removeEventListener('abort', onAbort)
      this.pending.set(id, {
        resolve: (latency) => (done(), resolve(latency)),
        reject: (error) => (done(), reject(error)),
      })
      this.send({ type: 'latency-request', id, board, layers, bits })
    })
  }

  /** Takes a reply meant for this client; false for every other message. */
  receive(message: ToJob): boolean {
    if (message.type !== 'latency-reply') return false
    const waiting = this.pending.get(message.id)
    this.pending.delete(message.id)
    if (waiting && message.ok) waiting.resolve(message.latency)
    else if (waiting && !message.ok) waiting.reject(new BenchsideError(message.error))
    return true
  }
}

// Batch sizing for the serial board: how many vectors per RUN and weights per LOAD_WEIGHTS fit the board's frames.
// Payload headers are measured from the codec itself, so the sizing follows the protocol if a header changes.
import { encodeMessage, MAX_PAYLOAD, type DeviceInfo } from './analog-protocol/index.ts'

const RUN_HEADER = encodeMessage({ type: 'run', slot: 0, count: 0, rows: 0, repeats: 0, inputs: new Uint8Array(0) }).length
const RESULT_HEADER = encodeMessage({ type: 'result', slot: 0, count: 0, repeats: 0, cols: 0, codes: new Int8Array(0) }).length
const LOAD_HEADER = encodeMessage({ type: 'loadWeights', slot: 0, rows: 0, cols: 0, offset: 0, weights: new Int8Array(0) }).length
/** A device's maxPayload must exceed every request and answer header, or not one vector or weight fits. */
export const LARGEST_HEADER = Math.max(RUN_HEADER, RESULT_HEADER, LOAD_HEADER)
export const MAX_REPEATS = 255
const MAX_WEIGHT_CHUNK = 0xffff

/** The payload bytes a device accepts and sends: its own limit, never above the codec's. */
export function payloadLimit(info: Pick<DeviceInfo, 'maxPayload'>): number {
  return Math.min(info.maxPayload, MAX_PAYLOAD)
}

/** Vectors per RUN so that the request and its RESULT both fit the device's payload limit and its maxBatch. */
export function runBatchVectors(info: Pick<DeviceInfo, 'maxBatch' | 'maxPayload'>, rows: number, cols: number, repeats: number): number {
  const limit = payloadLimit(info)
  return Math.max(0, Math.min(info.maxBatch, Math.floor((limit - RUN_HEADER) / rows), Math.floor((limit - RESULT_HEADER) / (repeats * cols))))
}

/** Weights per LOAD_WEIGHTS chunk. */
export function weightChunkElements(info: Pick<DeviceInfo, 'maxPayload'>): number {
  return Math.min(MAX_WEIGHT_CHUNK, payloadLimit(info) - LOAD_HEADER)
}

/** The payload bytes of a RUN of `count` vectors and of its RESULT (what the link carries beside framing). */
export function runPayloadBytes(count: number, rows: number, cols: number, repeats: number): { request: number; answer: number } {
  return { request: RUN_HEADER + count * rows, answer: RESULT_HEADER + count * repeats * cols }
}

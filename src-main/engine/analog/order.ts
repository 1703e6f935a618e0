// The operand groups of each integration order, as tensors: every order is a sequence of group sums
// S_k = x_chunk · (w_chunk ⊙ M_k) for 0/1 masks M_k that depend only on the weights (or one permutation per call).
// Natural blocks are column/row slices (a plain matMul each, the same work as one unchunked product); 'magnitude'
// needs per-column masks over the whole chunk. Products stay 2D: tfjs-wasm runs batched matMuls on a slow scalar path.
import * as tf from '@tensorflow/tfjs'
import type { OperandOrder } from './config.ts'
import { constantOf } from './ste.ts'
import { shuffled } from '../random.ts'

/** One row chunk: x [N, rows of the chunk] and w [rows of the chunk, outputs]. */
export interface Chunk {
  x: tf.Tensor2D
  w: tf.Tensor2D
}

/** Sizes of consecutive pieces of `size` at most `piece` long. */
function pieces(size: number, piece: number): number[] {
  return Array.from({ length: Math.ceil(size / piece) }, (_, i) => Math.min(piece, size - i * piece))
}

/**
 * Gathers along an axis by a permutation; the gradient is the inverse permutation, so no scatter is needed (tfjs's
 * gather gradient uses UnsortedSegmentSum, which the wasm backend lacks).
 */
function permute<T extends tf.Tensor>(value: T, order: Int32Array, axis: number): T {
  const inverse = new Int32Array(order.length)
  order.forEach((row, position) => (inverse[row] = position))
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor
    return {
      value: tf.gather(input, tf.tensor1d(order, 'int32'), axis),
      gradFunc: (dy: tf.Tensor) => tf.gather(dy, tf.tensor1d(inverse, 'int32'), axis),
    }
  })
  return op(value) as T
}

/**
 * Splits integer codes xq [N, inputs] and wq [inputs, outputs] into row chunks (the last one shorter). With a
 * `rowOrder` over the padded rows (see randomRowOrder), the rows are padded to whole chunks and permuted first.
 */
export function chunkOperands(xq: tf.Tensor2D, wq: tf.Tensor2D, rows: number, rowOrder: Int32Array | null = null): Chunk[] {
  const inputs = xq.shape[1]
  let x = xq
  let w = wq
  if (rowOrder) {
    const padded = rowOrder.length
    if (padded > inputs) {
      x = tf.pad(x, [
        [0, 0],
        [0, padded - inputs],
      ])
      w = tf.pad(w, [
        [0, padded - inputs],
        [0, 0],
      ])
    }
    x = permute(x, rowOrder, 1)
    w = permute(w, rowOrder, 0)
  }
  const sizes = pieces(x.shape[1], rows)
  if (sizes.length === 1) return [{ x, w }]
  const xs = tf.split(x, sizes, 1) as tf.Tensor2D[]
  const ws = tf.split(w, sizes, 0) as tf.Tensor2D[]
  return xs.map((chunk, c) => ({ x: chunk, w: ws[c]! }))
}

/** A random permutation of the rows inside every chunk (padding rows included: they are physical rows with input 0). */
export function randomRowOrder(inputs: number, rows: number, random: () => number): Int32Array {
  const chunks = Math.ceil(inputs / rows)
  const order = new Int32Array(chunks * rows)
  const local = [...Array(rows).keys()]
  for (let c = 0; c < chunks; c++)
    order.set(
      shuffled(local, random).map((i) => c * rows + i),
      c * rows,
    )
  return order
}

/** The associative chunk sums x_c · w_c, stacked: [chunks, N, outputs]. */
export function chunkSums(chunks: readonly Chunk[]): tf.Tensor3D {
  return tf.stack(chunks.map(({ x, w }) => tf.matMul(x, w))) as tf.Tensor3D
}

/** 1 where a weight code is positive; 0 elsewhere (negatives and zeros, which add nothing either way). */
const positiveMask = (w: tf.Tensor): tf.Tensor => constantOf(w, (v) => tf.cast(tf.greater(v, 0), 'float32'))

/**
 * Per column, the group index floor(rank / groupRows) of every row, rank 0 being the largest |w|; equal magnitudes
 * keep natural row order. The key |w|·rows + (rows − 1 − row) makes that explicit for integer codes, so the result
 * does not depend on how a backend's TopK breaks ties.
 */
function magnitudeGroups(w: tf.Tensor2D, groupRows: number): tf.Tensor2D {
  return constantOf(w, (v) => {
    const rows = v.shape[0]!
    const rowTerm = tf.reshape(tf.range(rows - 1, -1, -1, 'float32'), [rows, 1])
    const key = tf.transpose(tf.add(tf.mul(tf.round(tf.abs(v)), rows), rowTerm)) // [outputs, rows]
    const byRank = tf.topk(key, rows).indices // the row at each rank
    const rankOfRow = tf.topk(tf.neg(tf.cast(byRank, 'float32')), rows).indices // the inverse permutation
    return tf.transpose(tf.floor(tf.div(tf.cast(rankOfRow, 'float32'), groupRows)))
  }) as tf.Tensor2D
}

/** Products x_b · w_b of row blocks of the given sizes, with one split per operand for all blocks of all chunks. */
function blockProducts(x: tf.Tensor2D, w: tf.Tensor2D, sizes: readonly number[]): tf.Tensor2D[] {
  if (sizes.length === 1) return [tf.matMul(x, w)]
  const xs = tf.split(x, [...sizes], 1) as tf.Tensor2D[]
  const ws = tf.split(w, [...sizes], 0) as tf.Tensor2D[]
  return xs.map((block, b) => tf.matMul(block, ws[b]!))
}

/** Splits a flat list into consecutive runs of the given lengths. */
function runs<T>(items: readonly T[], lengths: readonly number[]): T[][] {
  let at = 0
  return lengths.map((length) => items.slice(at, (at += length)))
}

/**
 * Per chunk, its group sums in integration order: result[c][k] = (x_c · (w_c ⊙ M_k)) ⊙ scale, each [N, outputs].
 * `scale` (gain × column gain, per output) is folded into the weights once rather than applied to every group sum.
 */
export function chunkGroupSums(
  xq: tf.Tensor2D,
  wq: tf.Tensor2D,
  rows: number,
  ordering: { order: OperandOrder; groupRows: number },
  scale: tf.Tensor1D,
  rowOrder: Int32Array | null = null,
): tf.Tensor2D[][] {
  const { order, groupRows } = ordering
  if (order === 'magnitude') {
    return chunkOperands(xq, wq, rows, rowOrder).map(({ x, w }) => {
      const groups = magnitudeGroups(w, groupRows)
      const scaled = tf.mul(w, scale)
      return pieces(w.shape[0], groupRows).map((_, k) =>
        tf.matMul(
          x,
          tf.mul(
            scaled,
            constantOf(groups, (g) => tf.cast(tf.equal(g, k), 'float32')),
          ),
        ),
      )
    })
  }
  // Natural blocks ('random' permutes the rows first, then it is natural blocks too).
  const [whole] = chunkOperands(xq, wq, Number.MAX_SAFE_INTEGER, rowOrder)
  if (whole === undefined) throw new Error('The analog operands gave no row chunk; the weight matrix has no rows.')
  const { x, w } = whole
  const blocksPerChunk = pieces(x.shape[1], rows).map((chunkRows) => pieces(chunkRows, groupRows))
  const sizes = blocksPerChunk.flat()
  const counts = blocksPerChunk.map((b) => b.length)
  const scaled = tf.mul(w, scale) as tf.Tensor2D
  if (order !== 'sign') return runs(blockProducts(x, scaled, sizes), counts)
  const mask = positiveMask(w)
  const positive = runs(blockProducts(x, tf.mul(scaled, mask) as tf.Tensor2D, sizes), counts)
  const negative = runs(blockProducts(x, tf.mul(scaled, tf.sub(1, mask)) as tf.Tensor2D, sizes), counts)
  // Per block: its positive operands, then its negative ones (groupRows = rows: all positives of the chunk first).
  return positive.map((groups, c) => groups.flatMap((group, b) => [group, negative[c]![b]!]))
}

// Sum/Mean over leading axes on wasm (per-channel statistics of NHWC tensors). The stock kernels first move the reduced
// axes innermost with a slow transpose; two passes of XNNPACK average pooling over groups of rows are 5–10× faster.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type * as tf from '@tensorflow/tfjs'
import { call, free, matrixDims, reshape, type Info } from './kernel-calls.ts'

type KernelFunc = tf.KernelConfig['kernelFunc']

const MIN_SIZE = 4096

/** Returns how many leading axes are reduced, or 0 when the axes are not exactly a leading run (or keep nothing). */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b)
  if (axes.length === 0 || axes.length >= rank) return 0
  return axes.every((a, i) => a === i) ? axes.length : 0
}

/** The divisor of n closest to √n: two averaging passes over groups of this size keep float32 error near 2·√n·ε. */
function groupSize(n: number): number {
  const root = Math.round(Math.sqrt(n))
  for (let d = 0; d <= root; d++) {
    if (n % (root + d) === 0) return root + d
    if (root - d > 1 && n % (root - d) === 0) return root - d
  }
  return n
}

function averageRows(backend: BackendWasm, image: Info, group: number): Info {
  return call(backend, 'AvgPool', { x: image }, { filterSize: [group, 1], strides: [group, 1], pad: 'valid' })
}

/** Σ over rows of an [rows, cols] float32 tensor, times `factor`; returns [cols]. */
export function columnSum(backend: BackendWasm, x2: Info, factor: number): Info {
  if (x2.shape.length !== 2) throw new Error(`columnSum takes a matrix; its input has shape [${x2.shape.join(', ')}].`)
  const [rows, cols] = matrixDims(x2, 'columnSum input')
  const group = groupSize(rows)
  const image = reshape(backend, x2, [1, rows, 1, cols])
  // Equal-sized groups, so the mean of group means is the mean.
  const partial = averageRows(backend, image, group)
  free(backend, image)
  const pooled = group === rows ? partial : averageRows(backend, partial, rows / group)
  if (pooled !== partial) free(backend, partial)
  const out = reshape(backend, pooled, [cols])
  free(backend, pooled)
  const scale = factor * rows
  if (scale !== 1) {
    const values = backend.typedArrayFromHeap(out)
    for (const [i, value] of values.entries()) values[i] = value * scale
  }
  return out
}

export function makeLeadingReduce(stock: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm
    const { x } = args.inputs as { x: Info }
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean }
    const k = leadingAxes(axis, x.shape.length)
    const total = x.shape.reduce((a, b) => a * b, 1)
    if (k === 0 || x.dtype !== 'float32' || total < MIN_SIZE) return stock(args)
    const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1)
    const x2 = reshape(backend, x, [rows, total / rows])
    const summed = columnSum(backend, x2, mean ? 1 / rows : 1)
    free(backend, x2)
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k)
    const out = reshape(backend, summed, outShape)
    free(backend, summed)
    return out
  }
}

// Sum/Mean over leading axes on wasm (per-channel statistics of NHWC tensors). The stock kernels first move the reduced
// axes innermost with a slow transpose; XNNPACK's average pooling over one window covering every row does it in a pass.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import * as tf from '@tensorflow/tfjs'
import { call, free, reshape, type Info } from './kernel-calls.ts'

type KernelFunc = tf.KernelConfig['kernelFunc']

const MIN_SIZE = 4096
/** Longest side of the pooling window; the rows are folded into a 2-D window of about this many columns. */
const WINDOW_WIDTH = 64

/** Returns how many leading axes are reduced, or 0 when the axes are not exactly a leading run (or keep nothing). */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b)
  if (axes.length === 0 || axes.length >= rank) return 0
  return axes.every((a, i) => a === i) ? axes.length : 0
}

function windowWidth(rows: number): number {
  for (let b = Math.min(WINDOW_WIDTH, rows); b > 1; b--) if (rows % b === 0) return b
  return 1
}

/** Σ over rows of an [rows, cols] float32 tensor, times `factor`; returns [cols]. */
export function columnSum(backend: BackendWasm, x2: Info, factor: number): Info {
  const [rows, cols] = x2.shape
  const b = windowWidth(rows)
  const image = reshape(backend, x2, [1, rows / b, b, cols])
  const pooled = call(backend, 'AvgPool', { x: image }, { filterSize: [rows / b, b], strides: [rows / b, b], pad: 'valid' })
  free(backend, image)
  const out = reshape(backend, pooled, [cols])
  free(backend, pooled)
  const scale = factor * rows
  if (scale !== 1) {
    const values = backend.typedArrayFromHeap(out)
    for (let i = 0; i < values.length; i++) values[i] *= scale
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

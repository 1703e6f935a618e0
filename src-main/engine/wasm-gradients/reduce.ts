// Sum/Mean over leading axes on wasm (per-channel statistics of NHWC tensors): the stock kernels move the reduced axes
// innermost with a slow generic transpose; a 2-D XNNPACK transpose followed by an innermost reduction is faster.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import * as tf from '@tensorflow/tfjs'
import { free, reshape, transpose, type Info } from './kernel-calls.ts'

type KernelFunc = tf.KernelConfig['kernelFunc']

const MIN_SIZE = 4096

/** Returns how many leading axes are reduced, or 0 when the axes are not exactly a leading run (or keep nothing). */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b)
  if (axes.length === 0 || axes.length >= rank) return 0
  return axes.every((a, i) => a === i) ? axes.length : 0
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
    const cols = total / rows
    const x2 = reshape(backend, x, [rows, cols])
    const columns = transpose(backend, x2, [1, 0])
    free(backend, x2)
    const summed = stock({ ...args, inputs: { x: columns }, attrs: { axis: [1], keepDims: false } }) as Info
    free(backend, columns)
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k)
    const out = reshape(backend, summed, outShape)
    free(backend, summed)
    return out
  }
}

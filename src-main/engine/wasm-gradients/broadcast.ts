// Fast paths for per-channel broadcasting on wasm: the stock binary kernels and FusedBatchNorm run a scalar index loop
// whenever shapes differ (about 10× slower than XNNPACK's same-shape path), so the small operand is tiled first.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type * as tf from '@tensorflow/tfjs'
import { call, free, type Info } from './kernel-calls.ts'

type KernelFunc = tf.KernelConfig['kernelFunc']

/** Below this many output elements the stock broadcast loop is already cheap. */
const MIN_TILED_SIZE = 2048

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/** True when `small` repeats as a contiguous block across `full` (its shape, minus leading 1s, is a suffix of full's). */
export function isSuffixBroadcast(small: number[], full: number[]): boolean {
  let start = 0
  while (start < small.length && small[start] === 1) start++
  const core = small.slice(start)
  if (core.length > full.length) return false
  const tail = full.slice(full.length - core.length)
  return core.every((d, i) => d === tail[i])
}

/** Repeats a suffix-broadcast operand to `shape` by doubling copies inside the wasm heap. */
export function tileSuffix(backend: BackendWasm, small: Info, shape: number[]): Info {
  const out = backend.makeOutput(shape, small.dtype)
  const target = backend.typedArrayFromHeap(out)
  target.set(backend.typedArrayFromHeap(small))
  const total = target.length
  let filled = size(small.shape)
  while (filled < total) {
    const n = Math.min(filled, total - filled)
    target.copyWithin(filled, 0, n)
    filled += n
  }
  return out
}

export function makeFastBinary(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm
    const { a, b } = args.inputs as { a: Info; b: Info }
    const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])
    if (same || a.dtype !== b.dtype) return stock(args)
    const aSize = size(a.shape)
    const bSize = size(b.shape)
    const [full, small] = aSize >= bSize ? [a, b] : [b, a]
    if (size(full.shape) < MIN_TILED_SIZE || full.shape.length < small.shape.length || !isSuffixBroadcast(small.shape, full.shape)) {
      return stock(args)
    }
    const tiled = tileSuffix(backend, small, full.shape)
    const inputs = small === b ? { a, b: tiled } : { a: tiled, b }
    const out = stock({ ...args, inputs })
    free(backend, tiled)
    return out
  }
}

/**
 * FusedBatchNorm as y = (x − mean)·A + offset with per-channel A = scale/√(var+ε) computed on the channel vectors,
 * then three same-shape XNNPACK passes. (Folding the mean into the shift would save a pass but lose precision when
 * |mean| is large against the spread.)
 */
export function makeFastBatchNorm(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm
    const { x, mean, variance, offset, scale } = args.inputs as { x: Info; mean: Info; variance: Info; offset?: Info; scale?: Info }
    const channels = x.shape.at(-1)
    const params = [mean, variance, offset, scale].filter((p): p is Info => p !== undefined)
    if (
      channels === undefined ||
      size(x.shape) < MIN_TILED_SIZE ||
      x.dtype !== 'float32' ||
      params.some((p) => size(p.shape) !== channels || p.dtype !== 'float32')
    ) {
      return stock(args)
    }
    const epsilon = Number((args.attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001)
    const gainInfo = backend.makeOutput([channels], 'float32')
    const v = backend.typedArrayFromHeap(variance)
    const s = scale ? backend.typedArrayFromHeap(scale) : undefined
    const gain = backend.typedArrayFromHeap(gainInfo)
    // Every parameter holds `channels` values (checked above), so s[c] is in range.
    for (const [c, varianceC] of v.entries()) gain[c] = (s ? s[c]! : 1) / Math.sqrt(varianceC + epsilon)
    const meanFull = tileSuffix(backend, mean, x.shape)
    const centred = call(backend, 'Sub', { a: x, b: meanFull })
    free(backend, meanFull)
    const gainFull = tileSuffix(backend, gainInfo, x.shape)
    free(backend, gainInfo)
    const scaled = call(backend, 'Multiply', { a: centred, b: gainFull })
    free(backend, centred, gainFull)
    if (offset === undefined) return scaled
    const offsetFull = tileSuffix(backend, offset, x.shape)
    const y = call(backend, 'Add', { a: scaled, b: offsetFull })
    free(backend, scaled, offsetFull)
    return y
  }
}

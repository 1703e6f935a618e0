// Calls registered wasm kernel functions directly, so composite kernels skip the engine's per-op bookkeeping.
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'

export type Info = tf.TensorInfo

/** Runs the wasm kernel `name` as a plain function; the caller owns (and must free) the result. */
export function call(backend: BackendWasm, name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
  const kernel = tf.getKernel(name, 'wasm')
  if (kernel === undefined) throw new Error(`The wasm backend has no '${name}' kernel, which the Benchside gradient kernels build on.`)
  const out = kernel.kernelFunc({ inputs, backend, attrs })
  const first = Array.isArray(out) ? out[0] : out
  if (first === undefined) throw new Error(`The wasm '${name}' kernel returned no output.`)
  return first
}

/** The four dimensions of a rank-4 tensor (NHWC data, HWCM filters); `what` names it in the error otherwise. */
export function dims4(x: Info, what: string): [number, number, number, number] {
  const [a, b, c, d, ...rest] = x.shape
  if (a === undefined || b === undefined || c === undefined || d === undefined || rest.length > 0) {
    throw new Error(`${what} must be a rank-4 tensor; its shape is [${x.shape.join(', ')}].`)
  }
  return [a, b, c, d]
}

/** The last two dimensions (rows, columns) of a matrix or a batch of matrices. */
export function matrixDims(x: Info, what: string): [number, number] {
  const rows = x.shape.at(-2)
  const cols = x.shape.at(-1)
  if (rows === undefined || cols === undefined) throw new Error(`${what} must have at least two dimensions; its shape is [${x.shape.join(', ')}].`)
  return [rows, cols]
}

export function free(backend: BackendWasm, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId)
}

export function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return call(backend, 'Transpose', { x }, { perm })
}

export function reshape(backend: BackendWasm, x: Info, shape: number[]): Info {
  return call(backend, 'Reshape', { x }, { shape })
}

export function slice(backend: BackendWasm, x: Info, begin: number[], size: number[]): Info {
  return call(backend, 'Slice', { x }, { begin, size })
}

/** Zero-pads; a no-op copy is avoided when every padding is zero. */
export function pad(backend: BackendWasm, x: Info, paddings: [number, number][]): Info {
  if (paddings.every(([a, b]) => a === 0 && b === 0)) return reshape(backend, x, x.shape)
  return call(backend, 'PadV2', { x }, { paddings, constantValue: 0 })
}

/** Inserts (factor-1) zeros between neighbours along H and W of an NHWC tensor (the transpose of a strided read). */
export function dilateSpatial(backend: BackendWasm, x: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return reshape(backend, x, x.shape)
  const [n, h, w, c] = dims4(x, 'The tensor to dilate')
  const x6 = reshape(backend, x, [n, h, 1, w, 1, c])
  const padded = call(
    backend,
    'PadV2',
    { x: x6 },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  )
  free(backend, x6)
  const flat = reshape(backend, padded, [n, h * sh, w * sw, c])
  free(backend, padded)
  const out = slice(backend, flat, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c])
  free(backend, flat)
  return out
}

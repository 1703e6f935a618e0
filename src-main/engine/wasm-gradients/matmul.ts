// BatchMatMul for wasm: the stock kernel only reaches XNNPACK for untransposed, unbatched operands; this routes the rest there.
import type * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { free, matrixDims, reshape, transpose, type Info } from './kernel-calls.ts'

type KernelFunc = tf.KernelConfig['kernelFunc']

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/**
 * Wraps the stock kernel. For a single matrix product C = op(a)·op(b) it picks, by a memory-traffic estimate, between
 * computing C directly and computing Cᵀ = op(b)ᵀ·op(a)ᵀ, transposing operands explicitly so XNNPACK always runs.
 */
export function makeFastBatchMatMul(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm
    const { a, b } = args.inputs as { a: Info; b: Info }
    const transposeA = Boolean(args.attrs?.transposeA)
    const transposeB = Boolean(args.attrs?.transposeB)
    const batchA = size(a.shape.slice(0, -2))
    const batchB = size(b.shape.slice(0, -2))
    if (batchA !== 1 || batchB !== 1 || (!transposeA && !transposeB)) {
      if (batchB === 1 && batchA > 1 && b.shape.length <= a.shape.length && !transposeA && !transposeB) {
        return foldBatch(backend, stock, a, b)
      }
      return stock(args)
    }
    const [aRows, aCols] = matrixDims(a, 'BatchMatMul operand a')
    const [bRows, bCols] = matrixDims(b, 'BatchMatMul operand b')
    const m = transposeA ? aCols : aRows
    const n = transposeB ? bRows : bCols
    const a2 = reshape(backend, a, [aRows, aCols])
    const b2 = reshape(backend, b, [bRows, bCols])
    // Cost in elements moved: explicit transposes plus XNNPACK's packing of the right-hand operand.
    const direct = (transposeA ? size(a.shape) : 0) + (transposeB ? size(b.shape) : 0) + size(b.shape)
    const flipped = (transposeA ? 0 : size(a.shape)) + (transposeB ? 0 : size(b.shape)) + size(a.shape) + m * n
    let out: Info
    if (direct <= flipped) {
      const left = transposeA ? transpose(backend, a2, [1, 0]) : a2
      const right = transposeB ? transpose(backend, b2, [1, 0]) : b2
      out = stock({ inputs: { a: left, b: right }, backend, attrs: { transposeA: false, transposeB: false } }) as Info
      if (left !== a2) free(backend, left)
      if (right !== b2) free(backend, right)
    } else {
      const left = transposeB ? b2 : transpose(backend, b2, [1, 0])
      const right = transposeA ? a2 : transpose(backend, a2, [1, 0])
      const outT = stock({ inputs: { a: left, b: right }, backend, attrs: { transposeA: false, transposeB: false } }) as Info
      if (left !== b2) free(backend, left)
      if (right !== a2) free(backend, right)
      const outT2 = reshape(backend, outT, [n, m])
      free(backend, outT)
      out = transpose(backend, outT2, [1, 0])
      free(backend, outT2)
    }
    free(backend, a2, b2)
    const outerOnes = new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1)
    const shaped = reshape(backend, out, [...outerOnes, m, n])
    free(backend, out)
    return shaped
  }
}

/** [B,M,K]·[K,N]: one [B·M,K]·[K,N] product instead of B small ones on the scalar path. */
function foldBatch(backend: BackendWasm, stock: KernelFunc, a: Info, b: Info): Info {
  const [, k] = matrixDims(a, 'BatchMatMul operand a')
  const [bRows, bCols] = matrixDims(b, 'BatchMatMul operand b')
  const a2 = reshape(backend, a, [size(a.shape) / k, k])
  const b2 = reshape(backend, b, [bRows, bCols])
  const out = stock({ inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } }) as Info
  free(backend, a2, b2)
  const shaped = reshape(backend, out, [...a.shape.slice(0, -1), bCols])
  free(backend, out)
  return shaped
}

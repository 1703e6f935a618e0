// MaxPoolGrad for wasm: the stock kernel starts its running max at 0, so windows whose values are all negative route
// their gradient to the wrong element. This one keeps the first maximum in row-major window order, as cpu does.
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type { Info } from './kernel-calls.ts'

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding

export function maxPoolGrad(
  backend: BackendWasm,
  dy: Info,
  input: Info,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Info {
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode)
  const out = backend.makeOutput(input.shape, 'float32')
  // Views are taken after the allocation: growing the wasm heap detaches older views.
  const x = backend.typedArrayFromHeap(input) as Float32Array
  const g = backend.typedArrayFromHeap(dy) as Float32Array
  const dx = backend.typedArrayFromHeap(out) as Float32Array
  dx.fill(0)
  const tiled =
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.effectiveFilterHeight === 2 &&
    info.effectiveFilterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth
  if (tiled) pool2x2(x, g, dx, info)
  else poolGeneric(x, g, dx, info)
  return out
}

/** Non-overlapping 2×2 windows (the LeNet/ResNet case): each input is visited once and written at most once. */
function pool2x2(x: Float32Array, g: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info
  const rowStride = w * c
  let gi = 0
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < oh; i++) {
      const top = (n * h + 2 * i) * rowStride
      for (let j = 0; j < ow; j++) {
        const p0 = top + 2 * j * c
        const p1 = p0 + c
        const p2 = p0 + rowStride
        const p3 = p2 + c
        // The caller checked 2·oh ≤ h and 2·ow ≤ w, so the four window positions and gi are inside x, dx and g.
        for (let k = 0; k < c; k++, gi++) {
          const v0 = x[p0 + k]!
          const v1 = x[p1 + k]!
          const v2 = x[p2 + k]!
          const v3 = x[p3 + k]!
          let at = p0 + k
          let best = v0
          if (v1 > best) {
            best = v1
            at = p1 + k
          }
          if (v2 > best) {
            best = v2
            at = p2 + k
          }
          if (v3 > best) at = p3 + k
          dx[at] = g[gi]!
        }
      }
    }
  }
}

function poolGeneric(x: Float32Array, g: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const kh = info.effectiveFilterHeight
  const kw = info.effectiveFilterWidth
  // Per output row: running max and its position for every (column, channel), scanned window-row by window-row.
  const best = new Float32Array(ow * c)
  const where = new Int32Array(ow * c)
  const colStart = new Int32Array(ow)
  const colEnd = new Int32Array(ow)
  for (let j = 0; j < ow; j++) {
    const c0 = j * sw - info.padInfo.left
    colStart[j] = Math.max(0, c0)
    colEnd[j] = Math.min(w, c0 + kw)
  }
  for (let n = 0; n < batchSize; n++) {
    const xBatch = n * h * w * c
    for (let i = 0; i < oh; i++) {
      const r0 = i * sh - info.padInfo.top
      best.fill(-Infinity)
      where.fill(-1)
      for (let r = Math.max(0, r0), rEnd = Math.min(h, r0 + kh); r < rEnd; r++) {
        const xRow = xBatch + r * w * c
        for (const [j, qStart] of colStart.entries()) {
          const slot = j * c
          for (let q = qStart, qEnd = colEnd[j]!; q < qEnd; q++) {
            const base = xRow + q * c
            // Rows r < h and columns q < w of this batch item: base + k is inside x.
            for (let k = 0; k < c; k++) {
              const v = x[base + k]!
              if (v > best[slot + k]!) {
                best[slot + k] = v
                where[slot + k] = base + k
              }
            }
          }
        }
      }
      const gRow = (n * oh + i) * ow * c
      for (const [t, from] of where.entries()) if (from >= 0) dx[from] = dx[from]! + g[gRow + t]!
    }
  }
}

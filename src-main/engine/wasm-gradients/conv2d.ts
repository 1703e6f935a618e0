// Conv2D gradient kernels for wasm, rewritten as forward convolutions so XNNPACK's SIMD convolution does the work.
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { call, dilateSpatial, free, reshape, slice, transpose, type Info } from './kernel-calls.ts'

export interface ConvGeometry {
  batch: number
  inH: number
  inW: number
  inC: number
  outH: number
  outW: number
  outC: number
  kh: number
  kw: number
  sh: number
  sw: number
  dh: number
  dw: number
  padTop: number
  padLeft: number
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding

export function convGeometry(
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
  depthwise = false,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
  )
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  }
}

/**
 * dW[a,b,ci,co] = Σ x[n, i·sh + a·dh − pt, j·sw + b·dw − pl, ci] · dy[n,i,j,co]: a convolution of x (batch ↔ channels
 * swapped) with dy as the filter, where the original stride becomes the dilation and the dilation the stride.
 */
export function conv2dFilterGrad(backend: BackendWasm, x: Info, dy: Info, g: ConvGeometry): Info {
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1
  const needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1
  // Rows/columns past the last window never reach the output; cropping them keeps the padding non-negative.
  const usedH = Math.min(g.inH, needH - g.padTop)
  const usedW = Math.min(g.inW, needW - g.padLeft)
  const cropped = usedH < g.inH || usedW < g.inW
  const xs = cropped ? slice(backend, x, [0, 0, 0, 0], [g.batch, usedH, usedW, g.inC]) : x
  const xT = transpose(backend, xs, [3, 1, 2, 0])
  if (cropped) free(backend, xs)
  const dyT = transpose(backend, dy, [1, 2, 0, 3])
  const out = call(
    backend,
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [g.dh, g.dw],
      dilations: [g.sh, g.sw],
      dataFormat: 'NHWC',
      pad: [
        [0, 0],
        [g.padTop, needH - g.padTop - usedH],
        [g.padLeft, needW - g.padLeft - usedW],
        [0, 0],
      ],
    },
  )
  free(backend, xT, dyT)
  const dw = transpose(backend, out, [1, 2, 0, 3])
  free(backend, out)
  return dw
}

/**
 * dx = full correlation of the zero-dilated dy with the spatially flipped, in/out-swapped filter; returns null where the
 * explicit padding is larger than the filter reach (the caller then keeps the stock kernel).
 */
export function conv2dInputGrad(backend: BackendWasm, dy: Info, filter: Info, g: ConvGeometry): Info | null {
  const effKh = (g.kh - 1) * g.dh + 1
  const effKw = (g.kw - 1) * g.dw + 1
  const dilH = (g.outH - 1) * g.sh + 1
  const dilW = (g.outW - 1) * g.sw + 1
  const top = effKh - 1 - g.padTop
  const left = effKw - 1 - g.padLeft
  const bottom = g.inH + effKh - 1 - dilH - top
  const right = g.inW + effKw - 1 - dilW - left
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null
  const pad = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]
  const flipped = call(backend, 'Reverse', { x: filter }, { dims: [0, 1] })
  const dyDilated = dilateSpatial(backend, dy, g.sh, g.sw)
  if (g.inC === 1) {
    // One output channel wastes most of XNNPACK's GEMM tile; a depthwise pass plus a channel sum is about 1.6× faster.
    const perChannel = reshape(backend, flipped, [g.kh, g.kw, g.outC, 1])
    free(backend, flipped)
    const partial = call(backend, 'DepthwiseConv2dNative', { x: dyDilated, filter: perChannel }, { strides: [1, 1], dilations: [g.dh, g.dw], pad })
    free(backend, perChannel, dyDilated)
    const dx = call(backend, 'Sum', { x: partial }, { axis: [3], keepDims: true })
    free(backend, partial)
    return dx
  }
  const swapped = transpose(backend, flipped, [0, 1, 3, 2])
  free(backend, flipped)
  const dx = call(backend, 'Conv2D', { x: dyDilated, filter: swapped }, { strides: [1, 1], dilations: [g.dh, g.dw], dataFormat: 'NHWC', pad })
  free(backend, swapped, dyDilated)
  return dx
}

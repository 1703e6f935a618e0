// Depthwise Conv2D gradient kernels for wasm, expressed as depthwise convolutions that XNNPACK runs.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type { ConvGeometry } from './conv2d.ts'
import { call, dilateSpatial, dims4, free, reshape, slice, transpose, type Info } from './kernel-calls.ts'

/** dx: the zero-dilated dy correlated with the flipped filter; channel multipliers are summed afterwards. */
export function depthwiseInputGrad(backend: BackendWasm, dy: Info, filter: Info, g: ConvGeometry): Info {
  const [kh, kw, c, mult] = dims4(filter, 'The depthwise conv2d filter')
  const effKh = (kh - 1) * g.dh + 1
  const effKw = (kw - 1) * g.dw + 1
  const dilH = (g.outH - 1) * g.sh + 1
  const dilW = (g.outW - 1) * g.sw + 1
  const top = effKh - 1 - g.padTop
  const left = effKw - 1 - g.padLeft
  const bottom = g.inH + effKh - 1 - dilH - top
  const right = g.inW + effKw - 1 - dilW - left
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    throw new Error(`Depthwise conv2d gradient: padding (${g.padTop}, ${g.padLeft}) larger than the filter reach is not supported on wasm.`)
  }
  const flipped = call(backend, 'Reverse', { x: filter }, { dims: [0, 1] })
  const flat = reshape(backend, flipped, [kh, kw, c * mult, 1])
  free(backend, flipped)
  const dyDilated = dilateSpatial(backend, dy, g.sh, g.sw)
  const y = call(
    backend,
    'DepthwiseConv2dNative',
    { x: dyDilated, filter: flat },
    {
      strides: [1, 1],
      dilations: [g.dh, g.dw],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
    },
  )
  free(backend, flat, dyDilated)
  if (mult === 1) return y
  const y5 = reshape(backend, y, [g.batch, g.inH, g.inW, c, mult])
  free(backend, y)
  const dx = call(backend, 'Sum', { x: y5 }, { axis: [4], keepDims: false })
  free(backend, y5)
  return dx
}

/**
 * dW[a,b,c,m] = Σₙᵢⱼ x[n, i·sh + a·dh − pt, j·sw + b·dw − pl, c] · dy[n,i,j,c·M+m]: a depthwise convolution over
 * channels (c,n) of x with dy as the filter (stride and dilation swap roles), then a sum over n.
 */
export function depthwiseFilterGrad(backend: BackendWasm, x: Info, dy: Info, g: ConvGeometry, mult: number): Info {
  const c = g.inC
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1
  const needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1
  const usedH = Math.min(g.inH, needH - g.padTop)
  const usedW = Math.min(g.inW, needW - g.padLeft)
  const cropped = usedH < g.inH || usedW < g.inW
  const xs = cropped ? slice(backend, x, [0, 0, 0, 0], [g.batch, usedH, usedW, c]) : x
  const xT = transpose(backend, xs, [1, 2, 3, 0])
  if (cropped) free(backend, xs)
  const xImage = reshape(backend, xT, [1, usedH, usedW, c * g.batch])
  free(backend, xT)
  const dy5 = reshape(backend, dy, [g.batch, g.outH, g.outW, c, mult])
  const dyT = transpose(backend, dy5, [1, 2, 3, 0, 4])
  free(backend, dy5)
  const dyFilter = reshape(backend, dyT, [g.outH, g.outW, c * g.batch, mult])
  free(backend, dyT)
  const out = call(
    backend,
    'DepthwiseConv2dNative',
    { x: xImage, filter: dyFilter },
    {
      strides: [g.dh, g.dw],
      dilations: [g.sh, g.sw],
      pad: [
        [0, 0],
        [g.padTop, needH - g.padTop - usedH],
        [g.padLeft, needW - g.padLeft - usedW],
        [0, 0],
      ],
    },
  )
  free(backend, xImage, dyFilter)
  const out5 = reshape(backend, out, [g.kh, g.kw, c, g.batch, mult])
  free(backend, out)
  const perBatchLast = mult === 1 ? reshape(backend, out5, [g.kh, g.kw, c, 1, g.batch]) : transpose(backend, out5, [0, 1, 2, 4, 3])
  free(backend, out5)
  const dw = call(backend, 'Sum', { x: perBatchLast }, { axis: [4], keepDims: false })
  free(backend, perBatchLast)
  return dw
}

// Conv2D gradient with dilation > 1 (tfjs asserts dilation 1), built from the dilation-1 gradient ops on any backend,
// and a route around fused conv2d (used by tf.layers), whose inline gradient rejects dilation on every backend and
// always computes the input gradient, even for a first layer whose input needs none.
import * as tf from '@tensorflow/tfjs'

let installed = false

/** Zero-inserts (rate − 1) taps between filter taps: a dilated conv equals a plain conv with this filter. */
export function dilateFilter(filter: tf.Tensor4D, rh: number, rw: number): tf.Tensor4D {
  return tf.tidy((): tf.Tensor4D => {
    const [kh, kw, ci, co] = filter.shape
    const spread = tf.pad(filter.reshape([kh, 1, kw, 1, ci, co]), [
      [0, 0],
      [0, rh - 1],
      [0, 0],
      [0, rw - 1],
      [0, 0],
      [0, 0],
    ])
    return tf.slice(tf.reshape(spread, [kh * rh, kw * rw, ci, co]), [0, 0, 0, 0], [(kh - 1) * rh + 1, (kw - 1) * rw + 1, ci, co]) as tf.Tensor4D
  })
}

/**
 * Overrides the Conv2D gradient (a global registry in tfjs) but delegates to the stock one for dilation 1, so only
 * the case tfjs rejects takes the new path.
 */
export function registerDilatedConv2DGradient(): void {
  if (installed) return
  const stock = tf.getGradient('Conv2D')
  if (stock === undefined) throw new Error('tfjs has no Conv2D gradient to extend; check the @tensorflow/tfjs install.')
  installed = true
  const config: tf.GradConfig = {
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const { dilations, strides, pad, dimRoundingMode } = attrs as unknown as {
        dilations: number | [number, number]
        strides: number | [number, number]
        pad: 'valid' | 'same' | number
        dimRoundingMode?: 'floor' | 'round' | 'ceil'
      }
      const [rh, rw] = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1])
      if (rh === 1 && rw === 1) return stock.gradFunc(dy, saved, attrs)
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D]
      const dy4 = dy as tf.Tensor4D
      const wide = dilateFilter(filter, rh, rw)
      return {
        x: () => tf.conv2dTranspose(dy4, wide, x.shape, strides, pad as 'valid' | 'same' | number, dimRoundingMode),
        filter: () =>
          tf.tidy(() => {
            const wideGrad = tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x, dy: dy4 },
                { strides, pad, dataFormat: 'NHWC', filterShape: wide.shape, ...(dimRoundingMode ? { dimRoundingMode } : {}) },
              ) as tf.Tensor4D
            return tf.stridedSlice(wideGrad, [0, 0, 0, 0], wideGrad.shape, [rh, rw, 1, 1]) as tf.Tensor4D
          }),
      }
    },
  }
  // registerGradient warns when it overrides; the override is intended, so drop the old entry first.
  tf.unregisterGradient('Conv2D')
  tf.registerGradient(config)
  routeFusedConv2d()
}

type FusedConv2dArgs = Parameters<typeof tf.fused.conv2d>[0]

/**
 * tf.fused.conv2d becomes conv2d + bias + activation when dilated (so the Conv2D gradient above applies) and, on wasm,
 * while gradients are recorded: the tape then skips input gradients nobody asked for (about 10% of a LeNet step).
 */
function routeFusedConv2d(): void {
  const fused = tf.fused.conv2d
  const unfusedWhenDilated = (args: FusedConv2dArgs): tf.Tensor4D | tf.Tensor3D => {
    const d = args.dilations ?? 1
    const dilated = (typeof d === 'number' ? d : Math.max(...d)) > 1
    const recording = tf.getBackend() === 'wasm' && tf.engine().state.gradientDepth > 0
    if (!dilated && !recording) return fused(args)
    let y: tf.Tensor = tf.conv2d(args.x, args.filter, args.strides, args.pad, args.dataFormat ?? 'NHWC', d, args.dimRoundingMode)
    // tf.layers passes bias: null for layers built without one.
    if (args.bias != null) y = tf.add(y, args.bias)
    return activate(y, args) as tf.Tensor4D | tf.Tensor3D
  }
  ;(tf.fused as { conv2d: typeof fused }).conv2d = unfusedWhenDilated as typeof fused
}

function activate(y: tf.Tensor, args: FusedConv2dArgs): tf.Tensor {
  switch (args.activation ?? 'linear') {
    case 'linear':
      return y
    case 'relu':
      return tf.relu(y)
    case 'relu6':
      return tf.relu6(y)
    case 'elu':
      return tf.elu(y)
    case 'sigmoid':
      return tf.sigmoid(y)
    case 'leakyrelu':
      return tf.leakyRelu(y, args.leakyreluAlpha)
    case 'prelu':
      return tf.prelu(y, args.preluActivationWeights as tf.Tensor)
    default:
      throw new Error(
        `Fused conv2d activation '${String(args.activation)}' is not supported here; use 'linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu' or 'prelu'.`,
      )
  }
}

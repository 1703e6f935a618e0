// FusedBatchNorm gradient for wasm: the stock one materialises tile()d copies of per-channel vectors (wasm's Tile is a
// slow scalar loop) and reduces three full-size products; this one broadcasts and shares one reduction between
// the mean, variance and scale gradients.
import * as tf from '@tensorflow/tfjs'

let installed = false

export function registerBatchNormGradient(): void {
  if (installed) return
  const stock = tf.getGradient('FusedBatchNorm')
  if (stock === undefined) throw new Error('tfjs has no FusedBatchNorm gradient to replace; check the @tensorflow/tfjs install.')
  installed = true
  const config: tf.GradConfig = {
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved
      const channels = mean?.shape[0]
      if (
        x === undefined ||
        mean === undefined ||
        variance === undefined ||
        channels === undefined ||
        tf.getBackend() !== 'wasm' ||
        mean.rank !== 1 ||
        x.shape.at(-1) !== channels
      ) {
        return stock.gradFunc(dy, saved, attrs)
      }
      const epsilon = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon
      const dyT = dy as tf.Tensor
      const rows = dyT.size / channels
      const invStd = tf.rsqrt(tf.add(variance, epsilon))
      const gain = scale == null ? invStd : tf.mul(invStd, scale)
      const columnSum = (t: tf.Tensor): tf.Tensor1D => tf.sum(tf.reshape(t, [rows, channels]), 0)
      // Computed here, not in the closures: the engine runs each closure in its own scope and would free a shared cache.
      const sumDy = columnSum(dyT)
      const sumDyCentred = columnSum(tf.mul(dyT, tf.sub(x, mean)))
      return {
        x: () => tf.mul(dyT, gain),
        offset: () => tf.clone(sumDy),
        scale: () => tf.mul(sumDyCentred, invStd),
        mean: () => tf.neg(tf.mul(sumDy, gain)),
        variance: () => tf.mul(sumDyCentred, tf.mul(tf.mul(tf.mul(tf.square(invStd), invStd), scale ?? 1), -0.5)),
      }
    },
  }
  tf.unregisterGradient('FusedBatchNorm')
  tf.registerGradient(config)
}

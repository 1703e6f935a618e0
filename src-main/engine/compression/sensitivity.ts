// Per-layer sensitivity: how far the network's softmax moves (KL divergence from the uncompressed network) when one
// layer alone is pruned to a keep fraction, or has its weights or its inputs at b bits.
import * as tf from '@tensorflow/tfjs'
import type { CompressibleLayer, SensitivityCurves } from '../../contract/compression.ts'
import type { Hooks, Network } from '../network.ts'
import { isPolicyOp, keptCount } from './layers.ts'
import { calibrateInputRanges, precisionHooks } from './precision.ts'
import { channelMaskHooks, largestL1Channels } from './prune.ts'

export const SENSITIVITY_KEEPS: readonly number[] = Array.from({ length: 10 }, (_, i) => (i + 1) / 10)
export const SENSITIVITY_BITS: readonly number[] = Array.from({ length: 10 }, (_, i) => i + 1)

export interface SensitivityOptions {
  keeps?: readonly number[]
  /** Up to 16: the probe may go past the 8 bits a policy allows. */
  bits?: readonly number[]
  channelMultiple?: number
  signal?: AbortSignal
  onProgress?: (fraction: number) => void
}

/** Mean over samples of Σ p_ref·log(p_ref/p), with p_ref and p the softmax of each logits row. */
export function klDivergence(referenceLogits: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const reference = tf.logSoftmax(referenceLogits)
    return tf.mean(tf.sum(tf.mul(tf.exp(reference), tf.sub(reference, tf.logSoftmax(logits))), -1))
  })
}

/**
 * KL curves of each layer compressed alone, on the batch x (inference mode): pruned to each keep (L1 channels, as
 * pruneNetwork picks them, applied as masks), or with its weights or its inputs at each bit width (precisionHooks).
 * Layers that cannot be pruned get a keep curve of the single point keep 1 (KL 0): zeros would read as "free to prune".
 * A keep that rounds to every channel is KL 0 without running the network.
 */
export async function sensitivityCurves(
  net: Network,
  x: tf.Tensor,
  layers: readonly CompressibleLayer[],
  options: SensitivityOptions = {},
): Promise<SensitivityCurves[]> {
  const { keeps = SENSITIVITY_KEEPS, bits = SENSITIVITY_BITS, channelMultiple = 1, signal, onProgress } = options
  // Inside a tidy so the layers' intermediate tensors go; every point's value is kept.
  const cache = new Map(Object.entries(tf.tidy(() => Object.fromEntries(net.activations(x)))))
  const reference = cache.get(net.outputId)!
  try {
    const ranges = calibrateInputRanges(
      net,
      x,
      layers.map((l) => l.id),
    )
    const curves: SensitivityCurves[] = []
    for (const [i, layer] of layers.entries()) {
      signal?.throwIfAborted()
      const node = net.spec.nodes.find((n) => n.id === layer.id)
      if (!node || !isPolicyOp(node)) throw new Error(`'${layer.id}' is not a dense or conv layer of ${net.spec.architecture}.`)
      // Everything from the layer's input on is recomputed, so hooks on the layer itself and after it all apply.
      const kl = async (hooks: Hooks): Promise<number> => {
        const value = tf.tidy(() => klDivergence(reference, net.forwardFrom(cache, node.input, cache.get(node.input)!, { hooks })))
        const [result] = await value.data()
        value.dispose()
        return Math.max(0, result!)
      }
      const keep: SensitivityCurves['keep'] = []
      for (const k of layer.prunable ? keeps : [1]) {
        const count = keptCount(layer.outChannels, k, channelMultiple)
        const masked = () => channelMaskHooks(net, new Map([[layer.id, largestL1Channels(net, layer.id, count)]]))
        keep.push({ keep: k, kl: count === layer.outChannels ? 0 : await kl(masked()) })
      }
      const atBits = (b: number, kind: 'weightBits' | 'activationBits'): Hooks =>
        precisionHooks(net, { layers: [{ layer: layer.id, keep: 1, weightBits: 32, activationBits: 32, [kind]: b }] }, ranges)
      const weightBits: SensitivityCurves['weightBits'] = []
      const activationBits: SensitivityCurves['activationBits'] = []
      for (const b of bits) weightBits.push({ bits: b, kl: await kl(atBits(b, 'weightBits')) })
      for (const b of bits) activationBits.push({ bits: b, kl: await kl(atBits(b, 'activationBits')) })
      curves.push({ layer: layer.id, keep, weightBits, activationBits })
      onProgress?.((i + 1) / layers.length)
      await tf.nextFrame()
    }
    signal?.throwIfAborted()
    return curves
  } finally {
    // The cache holds x itself under the input id: the caller owns it.
    for (const value of cache.values()) if (value !== x) value.dispose()
  }
}

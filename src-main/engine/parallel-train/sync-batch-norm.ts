// Batch norm for training as compute overrides: statistics over the whole batch even when workers hold shards of it
// (the shards' means and squared deviations are gathered and combined; the backward pass gathers Σdy and Σdy·(x−μ)),
// so data-parallel training computes what one process would. Also fewer kernels than tf.layers' batch norm: the
// moving averages are updated on the C-vectors in JS and the gradient of x is one closed-form expression.
import * as tf from '@tensorflow/tfjs'
import type { ComputeOverride, Network } from '../network.ts'

/** Gathers one small vector from every worker, in worker order (one worker: just its own). */
export interface StatsGather {
  allGather(local: ArrayLike<number>): ArrayLike<number>[]
}

export const LOCAL_GATHER: StatsGather = { allGather: (local) => [local] }

interface BatchNormLayer {
  epsilon: number
  momentum: number
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void }
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void }
}

/** The batch-norm nodes in forward order with their channel counts (what an empty shard must still take part in). */
export function batchNormChannels(net: Network): { id: string; channels: number }[] {
  return net.points.filter((p) => p.op === 'batchNorm').map((p) => ({ id: p.id, channels: p.outputShape.at(-1)! }))
}

/** Statistics values one worker contributes per batch-norm layer: forward [n, mean, M2], backward [Σdy, Σdy·(x−μ)]. */
export const statsLength = (channels: number): number => 1 + 2 * channels

/**
 * An empty shard (a last batch smaller than the worker count) takes part in every gather the others make: forward
 * in node order, backward in reverse, contributing nothing.
 */
export function contributeEmpty(gather: StatsGather, layers: readonly { channels: number }[]): void {
  for (const { channels } of layers) gather.allGather(new Float64Array(statsLength(channels)))
  for (const { channels } of [...layers].reverse()) gather.allGather(new Float64Array(2 * channels))
}

export function syncBatchNormOverrides(net: Network, gather: StatsGather): Map<string, ComputeOverride> {
  const overrides = new Map<string, ComputeOverride>()
  for (const { id } of batchNormChannels(net)) {
    const layer = net.layer(id) as unknown as BatchNormLayer & tf.layers.Layer
    overrides.set(id, (input, { kernel: gamma, bias: beta }, _node, training) => {
      if (!training || beta === null) return layer.apply(input, { training }) as tf.Tensor
      return batchNormTraining(input, gamma, beta, layer, gather)
    })
  }
  return overrides
}

function batchNormTraining(input: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, layer: BatchNormLayer, gather: StatsGather): tf.Tensor {
  const channels = input.shape.at(-1)!
  const rows = input.size / channels
  const epsilon = layer.epsilon
  // Only x is save()d (the engine frees the forward pass's tensors before backprop); per-channel values are arrays.
  const op = tf.customGrad((x, g, b, save) => {
    const xt = x as tf.Tensor
    const [localMean, localVariance, gammaValues] = tf.tidy(() => {
      const { mean, variance } = tf.moments(tf.reshape(xt, [rows, channels]), 0)
      return [mean.dataSync(), variance.dataSync(), (g as tf.Tensor).dataSync()]
    })
    const local = new Float64Array(statsLength(channels))
    local[0] = rows
    for (let c = 0; c < channels; c++) {
      local[1 + c] = localMean[c]!
      local[1 + channels + c] = localVariance[c]! * rows
    }
    ;(save as tf.GradSaveFunc)([xt])
    const { total, mean, variance } = combineMoments(gather.allGather(local), channels)
    updateMovingAverages(layer, mean, variance)
    const value = tf.batchNorm(xt, tf.tensor1d(mean), tf.tensor1d(variance), b as tf.Tensor, g as tf.Tensor, epsilon)
    return {
      value,
      gradFunc: (dy: tf.Tensor, [xt]: tf.Tensor[]) => {
        if (!xt) throw new Error('The batch-norm input was not kept for the backward pass.')
        const dy2 = tf.reshape(dy, [rows, channels])
        const sumDy = tf.sum(dy2, 0)
        const sumDyCentred = tf.sum(tf.mul(dy2, tf.sub(tf.reshape(xt, [rows, channels]), tf.tensor1d(mean))), 0)
        const contribution = new Float64Array(2 * channels)
        contribution.set(sumDy.dataSync(), 0)
        contribution.set(sumDyCentred.dataSync(), channels)
        const parts = gather.allGather(contribution)
        // dx = γ/σ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N) = dy·gain + x·slope + shift, with the sums over the whole batch.
        const gain = new Float32Array(channels)
        const slope = new Float32Array(channels)
        const shift = new Float32Array(channels)
        const invStd = new Float32Array(channels)
        for (let c = 0; c < channels; c++) {
          let s1 = 0
          let s2 = 0
          for (const part of parts) {
            s1 += part[c]!
            s2 += part[channels + c]!
          }
          const inv = 1 / Math.sqrt(variance[c]! + epsilon)
          const gamma = gammaValues[c]!
          invStd[c] = inv
          gain[c] = gamma * inv
          slope[c] = (-gamma * inv * inv * inv * s2) / total
          shift[c] = (-gamma * inv * s1) / total - slope[c]! * mean[c]!
        }
        const dx = tf.add(tf.add(tf.mul(dy, gain), tf.mul(xt, slope)), shift)
        // γ and β get this shard's share only: the gradient exchange sums the shares.
        return [dx, tf.mul(sumDyCentred, invStd), sumDy]
      },
    }
  })
  return op(input, gamma, beta)
}

/** Chan's pairwise combination of per-shard (n, mean, M2), in worker order: exact, and stable for any shard sizes. */
function combineMoments(parts: ArrayLike<number>[], channels: number): { total: number; mean: Float32Array; variance: Float32Array } {
  let total = 0
  const mean = new Float64Array(channels)
  const m2 = new Float64Array(channels)
  for (const part of parts) {
    const n = part[0]!
    if (n === 0) continue
    const combined = total + n
    for (let c = 0; c < channels; c++) {
      const delta = part[1 + c]! - mean[c]!
      mean[c] = mean[c]! + (delta * n) / combined
      m2[c] = m2[c]! + part[1 + channels + c]! + (delta * delta * total * n) / combined
    }
    total = combined
  }
  return { total, mean: Float32Array.from(mean), variance: Float32Array.from(m2, (v) => v / total) }
}

/** tf.layers' update, moving ← moving − (moving − batch)·(1 − momentum), on the C-vectors (biased batch variance). */
function updateMovingAverages(layer: BatchNormLayer, mean: Float32Array, variance: Float32Array): void {
  const decay = Math.fround(1 - layer.momentum)
  const update = (variable: BatchNormLayer['movingMean'], batch: Float32Array) => {
    const old = variable.read().dataSync()
    const next = Float32Array.from(old, (v, c) => Math.fround(v - Math.fround(Math.fround(v - batch[c]!) * decay)))
    variable.write(tf.tensor1d(next))
  }
  update(layer.movingMean, mean)
  update(layer.movingVariance, variance)
}

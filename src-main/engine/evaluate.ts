// Accuracy, loss and confusion matrix of a network on a split, batched, with optional hooks (noise, quantization…).
import * as tf from '@tensorflow/tfjs'
import { batchTensors, type Dataset, type Split } from './data/dataset.ts'
import type { Hooks, Network } from './network.ts'

export interface Evaluation {
  accuracy: number
  loss: number
  count: number
  /** confusion[true][predicted] */
  confusion: number[][]
}

export async function evaluate(
  net: Network,
  dataset: Dataset,
  split: Split,
  options: { hooks?: Hooks; batchSize?: number; limit?: number } = {},
): Promise<Evaluation> {
  const classes = dataset.classNames.length
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  const count = Math.min(split.count, options.limit ?? Infinity)
  const batchSize = options.batchSize ?? 500
  let lossSum = 0
  let correct = 0
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i)
    const [predicted, losses] = tf.tidy(() => {
      const { x, y } = batchTensors(dataset, split, indices)
      const logits = net.forward(x, { hooks: options.hooks })
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits, undefined, undefined, tf.Reduction.NONE)
      return [logits.argMax(-1), loss.sum()]
    })
    const predictions = (await predicted.data()) as Int32Array
    lossSum += (await losses.data())[0]!
    tf.dispose([predicted, losses])
    indices.forEach((sample, i) => {
      const truth = split.y[sample]!
      confusion[truth]![predictions[i]!]!++
      if (truth === predictions[i]) correct++
    })
  }
  return { accuracy: correct / count, loss: lossSum / count, count, confusion }
}

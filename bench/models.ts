// Benchmark workloads built with tf.layers (a stand-in until the engine's model room exists).
import * as tf from '@tensorflow/tfjs'

export interface Workload {
  name: 'mlp-sfc-bn' | 'lenet5-bn'
  inputShape: number[]
  classes: number
  build(): tf.LayersModel
}

function bnRelu(x: tf.SymbolicTensor): tf.SymbolicTensor {
  const normalised = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(x) as tf.SymbolicTensor
  return tf.layers.reLU().apply(normalised) as tf.SymbolicTensor
}

/** 784→256→256→256→10, batch norm + ReLU after each hidden dense layer. */
export const mlpSfcBn: Workload = {
  name: 'mlp-sfc-bn',
  inputShape: [784],
  classes: 10,
  build() {
    const input = tf.input({ shape: [784] })
    let x: tf.SymbolicTensor = input
    for (let i = 0; i < 3; i++) x = bnRelu(tf.layers.dense({ units: 256 }).apply(x) as tf.SymbolicTensor)
    const logits = tf.layers.dense({ units: 10 }).apply(x) as tf.SymbolicTensor
    return tf.model({ inputs: input, outputs: logits, name: 'mlp_sfc_bn' })
  },
}

/** LeNet-5 with batch norm; the first conv uses 'same' padding (28×28 in, 28×28 out), like padding MNIST to 32×32. */
export const lenet5Bn: Workload = {
  name: 'lenet5-bn',
  inputShape: [28, 28, 1],
  classes: 10,
  build() {
    const input = tf.input({ shape: [28, 28, 1] })
    let x = bnRelu(tf.layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same' }).apply(input) as tf.SymbolicTensor)
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor
    x = bnRelu(tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'valid' }).apply(x) as tf.SymbolicTensor)
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor
    x = bnRelu(tf.layers.dense({ units: 120 }).apply(x) as tf.SymbolicTensor)
    x = bnRelu(tf.layers.dense({ units: 84 }).apply(x) as tf.SymbolicTensor)
    const logits = tf.layers.dense({ units: 10 }).apply(x) as tf.SymbolicTensor
    return tf.model({ inputs: input, outputs: logits, name: 'lenet5_bn' })
  },
}

export const WORKLOADS: readonly Workload[] = [mlpSfcBn, lenet5Bn]

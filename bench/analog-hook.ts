// Throughput of the analog MVM model against a plain float matMul on the same shapes (batch 256): vectors per second of
// analogMatMul with the default ordered device, each other order, the associative device, and a training step's
// gradient. Prints one JSON object. Run: node --import tsx bench/analog-hook.ts [--reps N] [--backend wasm|cpu]
import * as tf from '@tensorflow/tfjs'
import { analogMatMul, associative, DEFAULT_ARRAY, nominalDevice, type AnalogDeviceModel, type OperandOrder } from '../src-main/engine/analog.ts'
import { initBackend, type BackendPreference } from '../src-main/engine/backend.ts'
import { seededRandom } from '../src-main/engine/random.ts'

const args = process.argv.slice(2)
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const reps = Number(option('--reps')) || 20
const BATCH = 256
const SHAPES = [
  [784, 256],
  [400, 120],
] as const

const round = (x: number, digits = 3): number => Number(x.toPrecision(digits))

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Vectors per second after two warm-ups, from the median of `reps` runs and from the fastest (the least disturbed
 * figure on a shared machine); each run reads its result back.
 */
function vectorsPerSecond(run: () => tf.Tensor): { median: number; best: number } {
  const once = (): number => {
    const start = performance.now()
    tf.tidy(() => {
      run().dataSync()
    })
    return performance.now() - start
  }
  once()
  once()
  const times = Array.from({ length: reps }, once)
  return { median: Math.round(BATCH / (median(times) / 1000)), best: Math.round(BATCH / (Math.min(...times) / 1000)) }
}

function uniform(shape: number[], low: number, high: number, seed: number): tf.Tensor2D {
  const random = seededRandom(seed)
  return tf.tensor2d(
    Float32Array.from({ length: shape[0]! * shape[1]! }, () => low + (high - low) * random()),
    shape as [number, number],
  )
}

const backend = await initBackend((option('--backend') as BackendPreference | undefined) ?? 'auto')
const results = SHAPES.map(([inputs, outputs]) => {
  const x = uniform([BATCH, inputs], 0, 1, 1)
  const w = uniform([inputs, outputs], -0.1, 0.1, 2)
  // Scales as planning would give them: inputs fill 5 bits, weights 6 bits, the gain keeps chunk sums in range.
  const scales = { inputScale: 1 / 31, weightScale: 0.1 / 63, gain: 0.01 }
  const ordered = nominalDevice(256)
  const withOrder = (order: OperandOrder): AnalogDeviceModel => ({ ...ordered, ordering: { order, groupRows: 32 } })
  const plain = vectorsPerSecond(() => tf.matMul(x, w))
  const analog = (device: AnalogDeviceModel) => vectorsPerSecond(() => analogMatMul(x, w, scales, device, DEFAULT_ARRAY))
  const natural = analog(ordered)
  const assoc = analog(associative(ordered))
  const noiseless = analog({ ...ordered, noiseStd: 0 })
  const orders = Object.fromEntries((['sign', 'magnitude', 'random'] as const).map((order) => [order, analog(withOrder(order))]))
  const gradient = vectorsPerSecond(
    () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(analogMatMul(a as tf.Tensor2D, b as tf.Tensor2D, scales, ordered, DEFAULT_ARRAY)))([x, w])[0]!,
  )
  const plainGradient = vectorsPerSecond(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)))([x, w])[0]!)
  tf.dispose([x, w])
  return {
    layer: `${inputs}x${outputs}`,
    chunks: Math.ceil(inputs / DEFAULT_ARRAY.rows),
    plain_matmul_vectors_per_s: plain,
    analog_ordered_natural_vectors_per_s: natural,
    analog_associative_vectors_per_s: assoc,
    analog_ordered_noiseless_vectors_per_s: noiseless,
    analog_other_orders_vectors_per_s: orders,
    ratio_plain_over_ordered: { median: round(plain.median / natural.median), best: round(plain.best / natural.best) },
    ratio_plain_over_associative: { median: round(plain.median / assoc.median), best: round(plain.best / assoc.best) },
    forward_backward_vectors_per_s: { analog_ordered: gradient, plain_matmul: plainGradient, ratio_best: round(plainGradient.best / gradient.best) },
  }
})
console.log(
  JSON.stringify(
    {
      backend: { name: backend.name, version: backend.version, simd: backend.simd, threads: backend.threads },
      batch: BATCH,
      reps,
      config: DEFAULT_ARRAY,
      device: { noiseStd: 0.5, saturation: 127, ordering: 'natural, 32-row groups (associative: ordering null)' },
      results,
      notes: [
        'Vectors/s as { median, best } over the runs; every run reads the result back. The machine is shared: prefer best.',
        'The noise draw (seeded ziggurat in JS, one normal per chunk, vector and column) is part of the analog figures; the noiseless line shows its share.',
      ],
    },
    null,
    2,
  ),
)

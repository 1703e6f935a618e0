import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { seededRandom } from '../../../../src-main/engine/random.ts'
import { Heads } from '../../../../src-main/engine/uncertainty/heads.ts'
import { flatWeights, medianBandwidth, repulsionGradient, wgdDirection, type RepulsionForm } from '../../../../src-main/engine/uncertainty/repulsion.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

/** Seeded values in [−scale, scale), rounded to float32 so tf and the float64 references start from the same numbers. */
function values(count: number, seed: number, scale = 1): number[] {
  const random = seededRandom(seed)
  return Array.from(Float32Array.from({ length: count }, () => (2 * random() - 1) * scale))
}

const sqDist = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0)

/** The scalar whose gradient in fᵢ (others fixed) is ρᵢ: −log Σⱼ k (wgd) or −(1/M) Σⱼ k (svgd). */
function potential(fi: readonly number[], rows: readonly number[][], h: number, form: RepulsionForm): number {
  const sum = rows.reduce((s, fj) => s + Math.exp(-sqDist(fi, fj) / (2 * h)), 0)
  return form === 'wgd' ? -Math.log(sum) : -sum / rows.length
}

function centralGradient(fn: (x: number[]) => number, x: readonly number[], eps = 1e-6): number[] {
  return x.map((_, i) => {
    const plus = [...x]
    const minus = [...x]
    plus[i]! += eps
    minus[i]! -= eps
    return (fn(plus) - fn(minus)) / (2 * eps)
  })
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length)
  const scale = Math.max(...expected.map(Math.abs))
  expect(scale).toBeGreaterThan(1e-3)
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e)).toBeLessThan(tolerance * scale))
}

function rowsOf(flat: readonly number[], width: number): number[][] {
  return Array.from({ length: flat.length / width }, (_, i) => flat.slice(i * width, (i + 1) * width))
}

describe('the median heuristic', () => {
  it('is median(d²ᵢⱼ, i < j) / (2·log(M + 1))', () => {
    // Points 0, 1, 3 on a line: d² = 1, 9, 4 → median 4.
    const d2 = [0, 1, 9, 1, 0, 4, 9, 4, 0]
    expect(medianBandwidth(d2, 3)).toBeCloseTo(4 / (2 * Math.log(4)), 12)
    // Four points 0, 1, 2, 4: d² = 1, 4, 16, 1, 9, 4 → sorted 1 1 4 4 9 16, median (4 + 4)/2.
    const xs = [0, 1, 2, 4]
    expect(
      medianBandwidth(
        xs.flatMap((a) => xs.map((b) => (a - b) ** 2)),
        4,
      ),
    ).toBeCloseTo(4 / (2 * Math.log(5)), 12)
  })

  it('is what wgdDirection uses when no bandwidth is given', () => {
    const flat = values(12, 3)
    const rows = rowsOf(flat, 4)
    const h = medianBandwidth(
      rows.flatMap((a) => rows.map((b) => sqDist(a, b))),
      3,
    )
    const f = tf.tensor2d(flat, [3, 4])
    const [auto, fixed] = [wgdDirection(f, 'wgd'), wgdDirection(f, 'wgd', h)]
    expectClose(auto.dataSync(), Array.from(fixed.dataSync()), 1e-6)
    tf.dispose([f, auto, fixed])
  })

  it('refuses a single particle', () => {
    const f = tf.zeros([1, 4])
    expect(() => wgdDirection(f, 'wgd')).toThrow(/at least 2 particles/)
    f.dispose()
  })
})

describe('the repulsive direction', () => {
  for (const form of ['wgd', 'svgd'] as const) {
    it(`${form}: matches central differences of the kernel density (M = 3, D = 4, h fixed)`, () => {
      const flat = values(12, 11)
      const rows = rowsOf(flat, 4)
      const h = 0.9
      const expected = rows.flatMap((fi) => centralGradient((x) => potential(x, rows, h, form), fi))
      const f = tf.tensor2d(flat, [3, 4])
      const direction = wgdDirection(f, form, h)
      expectClose(direction.dataSync(), expected, 1e-5)
      tf.dispose([f, direction])
    })
  }

  it('points each of two particles away from the other', () => {
    const f = tf.tensor2d([0, 0, 1, 2], [2, 2])
    const direction = wgdDirection(f, 'svgd').arraySync()
    expect(direction[0]![0]).toBeLessThan(0)
    expect(direction[0]![1]).toBeLessThan(0)
    expect(direction[1]![0]).toBeGreaterThan(0)
    expect(direction[1]![1]).toBeGreaterThan(0)
    f.dispose()
  })
})

/** A tiny head in plain float64: the softmax probabilities on R feature rows, flattened (R·C). */
function headProbabilities(layers: { kernel: number[]; bias: number[]; inputs: number; outputs: number }[], featureRows: number[][]): number[] {
  return featureRows.flatMap((row) => {
    let h = row
    layers.forEach(({ kernel, bias, inputs, outputs }, l) => {
      const next = bias.slice()
      for (let o = 0; o < outputs; o++) for (let i = 0; i < inputs; i++) next[o]! += h[i]! * kernel[i * outputs + o]!
      h = l < layers.length - 1 ? next.map((v) => Math.max(v, 0)) : next
    })
    const top = Math.max(...h)
    const e = h.map((v) => Math.exp(v - top))
    const total = e.reduce((a, b) => a + b, 0)
    return e.map((v) => v / total)
  })
}

describe('the pullback to head weights', () => {
  const M = 3
  const R = 2
  const widths = { 1: [4, 3], 2: [4, 5, 3] }

  for (const depth of [1, 2] as const)
    for (const form of ['wgd', 'svgd'] as const) {
      it(`${form}, ${depth}-layer head: matches central differences through the head`, () => {
        const w = widths[depth]
        const layerValues = w
          .slice(1)
          .map((outputs, l) => ({ inputs: w[l]!, outputs, kernel: values(M * w[l]! * outputs, 20 + l, 1.5), bias: values(M * outputs, 30 + l, 0.5) }))
        const featureRows = rowsOf(values(R * w[0]!, 40, 2), w[0]!)
        const headLayers = (m: number) =>
          layerValues.map(({ inputs, outputs, kernel, bias }) => ({
            inputs,
            outputs,
            kernel: kernel.slice(m * inputs * outputs, (m + 1) * inputs * outputs),
            bias: bias.slice(m * outputs, (m + 1) * outputs),
          }))
        const fOf = (m: number) => headProbabilities(headLayers(m), featureRows)
        const rows = Array.from({ length: M }, (_, m) => fOf(m))
        const h = medianBandwidth(
          rows.flatMap((a) => rows.map((b) => sqDist(a, b))),
          M,
        )

        const tensors = layerValues.map(({ inputs, outputs, kernel, bias }) => ({
          kernel: tf.tensor3d(kernel, [M, inputs, outputs]),
          bias: tf.tensor2d(bias, [M, outputs]),
        }))
        const heads = new Heads(tensors, { featurePoint: 'test', seed: 1 })
        const featureTensor = tf.tensor2d(featureRows.flat(), [R, w[0]!])
        const gradients = repulsionGradient(heads, { space: 'function', form, features: featureTensor, bandwidth: h })

        // Head m's weights θₘ (kernels then biases per layer, as heads.variables); Gₘ(θₘ) = potential(fₘ(θₘ)).
        layerValues.forEach(({ inputs, outputs }, l) => {
          for (const part of ['kernel', 'bias'] as const) {
            const size = part === 'kernel' ? inputs * outputs : outputs
            const expected: number[] = []
            for (let m = 0; m < M; m++) {
              const theta = headLayers(m)[l]![part]
              expected.push(
                ...centralGradient((x) => {
                  const layers = headLayers(m)
                  layers[l]![part] = x
                  return potential(headProbabilities(layers, featureRows), rows, h, form)
                }, theta),
              )
            }
            expect(expected.length).toBe(M * size)
            expectClose(gradients[2 * l + (part === 'kernel' ? 0 : 1)]!.dataSync(), expected, 2e-4)
          }
        })
        tf.dispose([...tensors.flatMap((t) => [t.kernel, t.bias]), featureTensor, ...gradients])
        heads.dispose()
      })
    }

  it('in weight space is the direction on the flattened weights, split back per variable', () => {
    const tensors = [{ kernel: tf.tensor3d(values(24, 5), [3, 4, 2]), bias: tf.tensor2d(values(6, 6), [3, 2]) }]
    const heads = new Heads(tensors, { featurePoint: 'test', seed: 1 })
    const gradients = repulsionGradient(heads, { space: 'weight', form: 'wgd' })
    const flat = flatWeights(heads)
    const direction = wgdDirection(flat, 'wgd').arraySync()
    const kernel = gradients[0]!.arraySync() as number[][][]
    const bias = gradients[1]!.arraySync() as number[][]
    for (let m = 0; m < 3; m++) expectClose([...kernel[m]!.flat(), ...bias[m]!], direction[m]!, 1e-6)
    tf.dispose([...tensors.flatMap((t) => [t.kernel, t.bias]), ...gradients, flat])
    heads.dispose()
  })
})

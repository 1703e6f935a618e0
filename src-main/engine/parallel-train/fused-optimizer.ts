// Adam and momentum SGD as one JS loop per variable over Float32Arrays (wasm-heap views of the weights), instead of
// tfjs's ~8 kernels per variable. Every operation is rounded to float32 in tfjs's order, so the result matches
// tf.train.adam / tf.train.momentum to the last bit or so.
const f32 = Math.fround

export type OptimizerKind = 'adam' | 'sgd'

/** Where a variable's gradient comes from: one array, or the sum of per-worker partial gradients (in this order). */
export type GradientParts = readonly Float32Array[]

/** One variable's update: its weights (updated in place) and the parts of its gradient. */
export interface VariableUpdate {
  /** Keys the optimizer's moments, so a variable list that changes between epochs keeps each variable's state. */
  name: string
  weights: Float32Array
  gradient: GradientParts
  /** Where the new weights go (default: `weights`, in place). */
  out?: Float32Array
}

export class FusedOptimizer {
  private readonly first = new Map<string, Float32Array>()
  private readonly second = new Map<string, Float32Array>()
  // tfjs keeps β^t as float32 scalars multiplied once per step; so do we, so the bias corrections round the same.
  private accBeta1 = f32(0.9)
  private accBeta2 = f32(0.999)
  private readonly beta1 = f32(0.9)
  private readonly beta2 = f32(0.999)
  private readonly oneMinusBeta1 = f32(1 - 0.9)
  private readonly oneMinusBeta2 = f32(1 - 0.999)
  private readonly momentum = f32(0.9)

  /** `epsilon`: Adam's ε; tfjs takes the backend's (1e-7 for float32), pass `tf.backend().epsilon()`. */
  constructor(
    readonly kind: OptimizerKind,
    private readonly epsilon: number,
  ) {}

  /** One update of every variable, each from the (ordered) sum of its gradient parts. */
  step(updates: readonly VariableUpdate[], learningRate: number): void {
    const lr = f32(learningRate)
    const state = (map: Map<string, Float32Array>, u: VariableUpdate): Float32Array => {
      let s = map.get(u.name)
      if (!s) map.set(u.name, (s = new Float32Array(u.weights.length)))
      return s
    }
    if (this.kind === 'adam') {
      const a1 = f32(1 - this.accBeta1)
      const a2 = f32(1 - this.accBeta2)
      for (const u of updates) this.adam(u.weights, u.out ?? u.weights, u.gradient, state(this.first, u), state(this.second, u), lr, a1, a2)
      this.accBeta1 = f32(this.accBeta1 * this.beta1)
      this.accBeta2 = f32(this.accBeta2 * this.beta2)
    } else {
      for (const u of updates) this.sgd(u.weights, u.out ?? u.weights, u.gradient, state(this.first, u), lr)
    }
  }

  private adam(w: Float32Array, out: Float32Array, parts: GradientParts, m: Float32Array, v: Float32Array, lr: number, a1: number, a2: number): void {
    const [g0, g1, ...more] = parts
    if (!g0) throw new Error('A variable has no gradient parts to apply.')
    if (more.length) {
      // Rare (more than two workers): fold the extra parts into a copy once, keeping the summation order.
      this.adam(w, out, [sumParts(parts)], m, v, lr, a1, a2)
      return
    }
    const { beta1, beta2, oneMinusBeta1: c1, oneMinusBeta2: c2, epsilon } = this
    const eps = f32(epsilon)
    const negLr = -lr
    for (let j = 0; j < w.length; j++) {
      const g = g1 ? f32(g0[j]! + g1[j]!) : g0[j]!
      const mj = f32(f32(m[j]! * beta1) + f32(g * c1))
      const vj = f32(f32(v[j]! * beta2) + f32(f32(g * g) * c2))
      m[j] = mj
      v[j] = vj
      const mHat = f32(mj / a1)
      const vHat = f32(vj / a2)
      out[j] = f32(f32(f32(mHat / f32(f32(Math.sqrt(vHat)) + eps)) * negLr) + w[j]!)
    }
  }

  private sgd(w: Float32Array, out: Float32Array, parts: GradientParts, acc: Float32Array, lr: number): void {
    const [g0, g1, ...more] = parts
    if (!g0) throw new Error('A variable has no gradient parts to apply.')
    if (more.length) {
      this.sgd(w, out, [sumParts(parts)], acc, lr)
      return
    }
    const mu = this.momentum
    const negLr = f32(-lr)
    for (let j = 0; j < w.length; j++) {
      const g = g1 ? f32(g0[j]! + g1[j]!) : g0[j]!
      const a = f32(f32(mu * acc[j]!) + g)
      acc[j] = a
      out[j] = f32(f32(negLr * a) + w[j]!)
    }
  }
}

/** Left-to-right float32 sum of the parts (the order every worker uses, so replicas stay identical). */
function sumParts(parts: GradientParts): Float32Array {
  const out = Float32Array.from(parts[0]!)
  for (const part of parts.slice(1)) for (let j = 0; j < out.length; j++) out[j] = f32(out[j]! + part[j]!)
  return out
}

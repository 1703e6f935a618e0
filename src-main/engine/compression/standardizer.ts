// Online per-feature standardisation (Welford's algorithm) of the agent's state, so features of different scales
// (channel counts, MACs, layer indices) reach the networks as z-scores.

export interface StandardizerState {
  size: number
  count: number
  mean: number[]
  /** Per feature, the sum of squared deviations from the mean. */
  m2: number[]
}

export class Standardizer {
  private count = 0
  private readonly mean: number[]
  private readonly m2: number[]

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`A standardizer needs a whole number of features ≥ 1, got ${size}`)
    this.mean = new Array<number>(size).fill(0)
    this.m2 = new Array<number>(size).fill(0)
  }

  get samples(): number {
    return this.count
  }

  update(x: readonly number[]): void {
    this.check(x)
    this.count++
    for (let i = 0; i < this.size; i++) {
      const value = x[i]!
      const delta = value - this.mean[i]!
      const mean = this.mean[i]! + delta / this.count
      this.mean[i] = mean
      this.m2[i] = this.m2[i]! + delta * (value - mean)
    }
  }

  /** (x − mean)/std with the population standard deviation; a feature with zero variance (or no samples yet) gives 0. */
  transform(x: readonly number[]): number[] {
    this.check(x)
    return x.map((value, i) => {
      const variance = this.count > 0 ? this.m2[i]! / this.count : 0
      return variance > 0 ? (value - this.mean[i]!) / Math.sqrt(variance) : 0
    })
  }

  toJSON(): StandardizerState {
    return { size: this.size, count: this.count, mean: [...this.mean], m2: [...this.m2] }
  }

  static fromJSON(state: StandardizerState): Standardizer {
    const s = new Standardizer(state.size)
    const ok =
      Number.isInteger(state.count) &&
      state.count >= 0 &&
      state.mean.length === state.size &&
      state.m2.length === state.size &&
      [...state.mean, ...state.m2].every(Number.isFinite)
    if (!ok) throw new Error('The saved standardizer state is damaged (count, sizes or values do not fit)')
    s.count = state.count
    state.mean.forEach((v, i) => (s.mean[i] = v))
    state.m2.forEach((v, i) => (s.m2[i] = v))
    return s
  }

  private check(x: readonly number[]): void {
    if (x.length !== this.size) throw new Error(`Expected ${this.size} features, got ${x.length}`)
    const bad = x.findIndex((v) => !Number.isFinite(v))
    if (bad >= 0) throw new Error(`Feature ${bad} is not a finite number (${x[bad]})`)
  }
}

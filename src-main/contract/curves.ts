// Metric curves of several runs, as the run comparison draws them: TensorBoard's debiased exponential smoothing, and a
// group of runs summarised per step by its mean and a Student t interval. Pure numbers, shared by the renderer and tests.

/**
 * Exponential moving average as TensorBoard smooths scalars: `last = last·w + (1 − w)·v`, divided by `1 − wⁿ` (n: the
 * finite values seen so far) so the first points are not pulled towards zero. Non-finite values pass through unchanged
 * and do not count; a constant series is returned as it is. `weight` is clamped to [0, 1): 0 leaves the values alone.
 */
export function smoothEma(values: readonly number[], weight: number): number[] {
  const w = Math.min(Math.max(Number.isFinite(weight) ? weight : 0, 0), 0.999_999)
  const first = values[0]
  if (w === 0 || values.every((v) => v === first)) return [...values]
  let last = 0
  let count = 0
  return values.map((v) => {
    if (!Number.isFinite(v)) return v
    last = last * w + (1 - w) * v
    count++
    return last / (1 - w ** count)
  })
}

// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): about 15 significant digits.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
]
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x)
  const z = x - 1
  let sum = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

// The continued fraction of the incomplete beta function (modified Lentz), as in Numerical Recipes' betacf.
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const step = d * c
    h *= step
    if (Math.abs(step - 1) < 1e-15) break
  }
  return h
}

/** The regularized incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5)
  return t >= 0 ? 1 - tail : tail
}

/** The quantile of Student's t: the t with P(T ≤ t) = p, for 0 < p < 1 and df > 0 (bisection on the CDF). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return Number.NaN
  if (p === 0.5) return 0
  if (p < 0.5) return -studentTQuantile(1 - p, df)
  let low = 0
  let high = 1
  while (studentTCdf(high, df) < p) high *= 2
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const mid = (low + high) / 2
    if (studentTCdf(mid, df) < p) low = mid
    else high = mid
  }
  return (low + high) / 2
}

/** One point of a run's metric: its step, its value, and where it is drawn (time, say; the step when omitted). */
export interface CurvePoint {
  step: number
  y: number
  x?: number
}

/** A group's curve at one step: the mean of the runs that logged it there, and the t interval (null below two runs). */
export interface BandPoint {
  step: number
  /** Where to draw it: the mean of the runs' x at this step. */
  x: number
  mean: number
  low: number | null
  high: number | null
  /** How many runs have a finite value at this step. */
  n: number
}

/**
 * Runs aligned by step: at every step any of them logged, the mean of their values and the two-sided `confidence`
 * interval of that mean, mean ± t(1 − α/2, n − 1)·s/√n. A run that logged a step twice counts with its last value;
 * non-finite values are left out.
 */
export function groupBands(series: readonly (readonly CurvePoint[])[], confidence = 0.95): BandPoint[] {
  const bySteps = new Map<number, { ys: number[]; xs: number[] }>()
  for (const points of series) {
    const last = new Map<number, CurvePoint>()
    for (const p of points) if (Number.isFinite(p.y)) last.set(p.step, p)
    for (const [step, p] of last) {
      let at = bySteps.get(step)
      if (!at) bySteps.set(step, (at = { ys: [], xs: [] }))
      at.ys.push(p.y)
      at.xs.push(p.x ?? step)
    }
  }
  const quantile = (1 + confidence) / 2
  return [...bySteps]
    .sort(([a], [b]) => a - b)
    .map(([step, { ys, xs }]) => {
      const n = ys.length
      const mean = ys.reduce((s, y) => s + y, 0) / n
      const x = xs.reduce((s, v) => s + v, 0) / n
      if (n < 2) return { step, x, mean, low: null, high: null, n }
      const sd = Math.sqrt(ys.reduce((s, y) => s + (y - mean) ** 2, 0) / (n - 1))
      const half = (studentTQuantile(quantile, n - 1) * sd) / Math.sqrt(n)
      return { step, x, mean, low: mean - half, high: mean + half, n }
    })
}

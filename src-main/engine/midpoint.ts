// The midpoint noise level of a scope: the σ where accuracy falls halfway from clean to chance, interpolated on log σ,
// with a confidence interval; found on a dense grid or by an adaptive search (coarse pass, then bisection).

/** One measured cell of one scope. */
export interface CellCounts {
  sigma: number
  repeat: number
  correct: number
  count: number
}

/** Accuracy at one σ over its repeats, with the variance of that estimate (see docs/walking-noise.md). */
export interface CurvePoint {
  sigma: number
  accuracy: number
  repeats: number
  /** Samples per repeat. */
  count: number
  /** Sample variance of the per-repeat accuracies (0 with one repeat). */
  betweenRepeatVariance: number
  variance: number
}

export type MidpointStatus = 'found' | 'below-range' | 'above-range' | 'clean-at-chance'

export interface MidpointEstimate {
  status: MidpointStatus
  /** The midpoint σ; null unless found. */
  sigma: number | null
  /** Confidence bounds on σ; null where the interval is open (beyond the evaluated σ range). */
  ci: [number | null, number | null]
  /** Width of the interval in decades of σ (Infinity when open). */
  ciDecades: number
  /** The evaluated σ on either side of the crossing. */
  bracket: [number, number] | null
  bracketDecades: number
  clean: number
  chance: number
  threshold: number
}

export interface MidpointOptions {
  classes: number
  /** Clean accuracy; default: the σ = 0 cells. */
  clean?: number
  /** Two-sided confidence level of the interval (default 0.95). */
  confidence?: number
}

/** `count` σ values spaced evenly on a log axis from `from` to `to` (default 1e-2 … 1e10, 49 points). */
export function logGrid(from = 1e-2, to = 1e10, count = 49): number[] {
  if (!(from > 0 && to > from && count >= 2)) throw new Error(`A log grid needs 0 < from < to and at least 2 points (got ${from}, ${to}, ${count}).`)
  const a = Math.log10(from)
  const step = (Math.log10(to) - a) / (count - 1)
  return Array.from({ length: count }, (_, i) => 10 ** (a + i * step))
}

/**
 * Variance of the mean accuracy over R repeats of n samples, as an estimate of the accuracy under noise on the
 * population the test set was drawn from: p(1−p)/n − (1 − 1/R)·s², kept within [p(1−p)/(nR), p(1−p)/n].
 */
export function accuracyVariance(correct: number, total: number, repeats: number, perRepeat: number, betweenRepeatVariance: number): number {
  // A half-count continuity correction keeps the variance above 0 at accuracies of exactly 0 or 1.
  const p = (correct + 0.5) / (total + 1)
  const binomial = (p * (1 - p)) / perRepeat
  if (repeats < 2) return binomial
  const combined = binomial - (1 - 1 / repeats) * betweenRepeatVariance
  return Math.min(binomial, Math.max(binomial / repeats, combined))
}

/**
 * Accuracy per σ (σ = 0 included), sorted by σ. Where a σ has cells over different numbers of samples (a cell stopped
 * early by sequential testing, then full repeats), only the largest-count cells give its accuracy: the early cell only
 * placed that σ on one side of the threshold, and mixing sample sizes would break the variance model.
 */
export function accuracyCurve(cells: readonly CellCounts[]): CurvePoint[] {
  const bySigma = new Map<number, CellCounts[]>()
  for (const cell of cells) {
    const group = bySigma.get(cell.sigma) ?? []
    if (group.length === 0 || cell.count === group[0]!.count) group.push(cell)
    else if (cell.count > group[0]!.count) group.splice(0, group.length, cell)
    bySigma.set(cell.sigma, group)
  }
  return [...bySigma.entries()]
    .sort(([a], [b]) => a - b)
    .map(([sigma, group]) => {
      const correct = group.reduce((s, c) => s + c.correct, 0)
      const total = group.reduce((s, c) => s + c.count, 0)
      const accuracies = group.map((c) => c.correct / c.count)
      const mean = correct / total
      const repeats = group.length
      const between = repeats < 2 ? 0 : accuracies.reduce((s, a) => s + (a - mean) ** 2, 0) / (repeats - 1)
      const count = total / repeats
      return { sigma, accuracy: mean, repeats, count, betweenRepeatVariance: between, variance: accuracyVariance(correct, total, repeats, count, between) }
    })
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`A normal quantile needs 0 < p < 1, not ${p}.`)
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const low = 0.02425
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  if (p > 1 - low) return -normalQuantile(1 - p)
  const q = p - 0.5
  const r = q * q
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  )
}

/** Sequential testing: a noisy cell may stop once its accuracy is on one side of `threshold` by `z` standard errors. */
export interface SequentialRule {
  threshold: number
  z: number
}

/**
 * Whether `correct` of `count` samples already places a cell's accuracy on one side of the threshold. The binomial
 * standard error over the samples seen is conservative for the accuracy on the whole split (no finite-population
 * correction); the half-count continuity correction keeps it above 0 at accuracies of 0 or 1.
 */
export function decided(correct: number, count: number, rule: SequentialRule): boolean {
  if (count <= 0) return false
  const p = (correct + 0.5) / (count + 1)
  return Math.abs(correct / count - rule.threshold) > rule.z * Math.sqrt((p * (1 - p)) / count)
}

/** Log10 σ where a piecewise-linear curve (on log σ) first falls below the threshold; index −1 when it never does. */
function firstCrossing(logSigmas: readonly number[], values: readonly number[], threshold: number): { index: number; log: number } {
  const index = values.findIndex((v) => v < threshold)
  if (index <= 0) return { index, log: index === 0 ? logSigmas[0]! : NaN }
  const [a, b] = [values[index - 1]!, values[index]!]
  const t = (a - threshold) / (a - b)
  return { index, log: logSigmas[index - 1]! + t * (logSigmas[index]! - logSigmas[index - 1]!) }
}

/**
 * The midpoint from cells of one scope. The interval inverts a pointwise confidence band: its ends are where the
 * curves accuracy ∓ z·√variance cross the threshold.
 */
export function estimateMidpoint(cells: readonly CellCounts[], options: MidpointOptions): MidpointEstimate {
  const curve = accuracyCurve(cells)
  const chance = 1 / options.classes
  const clean = options.clean ?? curve.find((p) => p.sigma === 0)?.accuracy
  if (clean === undefined) throw new Error('The midpoint needs the clean accuracy: measure σ = 0 or pass it.')
  const threshold = (clean + chance) / 2
  const noisy = curve.filter((p) => p.sigma > 0)
  const base = { clean, chance, threshold }
  const open: MidpointEstimate = { status: 'found', sigma: null, ci: [null, null], ciDecades: Infinity, bracket: null, bracketDecades: Infinity, ...base }
  if (clean <= chance) return { ...open, status: 'clean-at-chance' }
  if (noisy.length === 0) return { ...open, status: 'above-range' }
  const z = normalQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2)
  const logs = noisy.map((p) => Math.log10(p.sigma))
  const mid = firstCrossing(
    logs,
    noisy.map((p) => p.accuracy),
    threshold,
  )
  const lower = firstCrossing(
    logs,
    noisy.map((p) => p.accuracy - z * Math.sqrt(p.variance)),
    threshold,
  )
  const upper = firstCrossing(
    logs,
    noisy.map((p) => p.accuracy + z * Math.sqrt(p.variance)),
    threshold,
  )
  const ciLow = lower.index > 0 ? 10 ** lower.log : null
  const ciHigh = upper.index > 0 ? 10 ** upper.log : null
  const ci: [number | null, number | null] = [ciLow, ciHigh]
  const ciDecades = ciLow !== null && ciHigh !== null ? upper.log - lower.log : Infinity
  if (mid.index === 0) return { ...open, status: 'below-range', ci: [null, ciHigh], bracket: [0, noisy[0]!.sigma] }
  if (mid.index < 0) return { ...open, status: 'above-range', ci: [ciLow, null], bracket: [noisy.at(-1)!.sigma, Infinity] }
  const bracket: [number, number] = [noisy[mid.index - 1]!.sigma, noisy[mid.index]!.sigma]
  return { status: 'found', sigma: 10 ** mid.log, ci, ciDecades, bracket, bracketDecades: logs[mid.index]! - logs[mid.index - 1]!, ...base }
}

export interface AdaptiveOptions extends MidpointOptions {
  /** σ range of the coarse pass (default 1e-2 … 1e10). */
  range?: [number, number]
  /** Spacing of the coarse pass in decades (default 1). */
  coarseStep?: number
  /** Repeats per σ of the coarse pass (default 1: it only has to find the crossing). */
  coarseRepeats?: number
  /** Repeats per σ while refining (default 5). */
  repeats?: number
  /** Stop when both the interval and the bracket are at most this wide, in decades of σ (default 0.05). */
  toleranceDecades?: number
  /** Stop before a pass would take the number of cells above this (default 150). */
  maxCells?: number
  /**
   * Sequential testing (default on): cells that only locate the crossing (the coarse pass and the bisection) stop as
   * soon as their accuracy is known to be above or below the threshold; the test set is spent in full only on the
   * cells placed around the crossing, which give the midpoint and its interval.
   */
  sequential?: boolean
  /** Standard errors by which a stopped cell must clear the threshold (default 3.5: ≈ 5e-4 per look, two-sided). */
  decisionZ?: number
}

/**
 * Measures the requested cells of one scope (σ = 0 is the clean network); resolves with their counts. With a rule,
 * noisy cells may stop early (their count is then the samples seen); σ = 0 and cells without a rule use the whole split.
 */
export type CellEvaluator = (cells: readonly { sigma: number; repeat: number }[], rule?: SequentialRule) => Promise<CellCounts[]>

export type AdaptiveStop = 'tolerance' | 'budget' | 'out-of-range' | 'no-progress'

export interface AdaptiveResult {
  estimate: MidpointEstimate
  cells: CellCounts[]
  /** Calls of the evaluator, i.e. passes over the data. */
  passes: number
  stopped: AdaptiveStop
}

/**
 * Coarse log-σ pass, then passes that narrow the bracket around the crossing, then passes that place full cells around
 * it. Without sequential testing each narrowing pass adds points at the interpolated crossing m ± tolerance/2 (inside
 * the bracket) and, while the bracket is wider than 4 tolerances, its log-midpoint, all with R repeats. With it (the
 * default), σ = 0 is measured first, so the threshold is known; the coarse cells and one bisection cell per pass
 * (while the bracket is wider than 4 tolerances) stop as soon as they fall clearly above or below the threshold, and
 * only the m ± tolerance/2 cells take R repeats over the whole split. When the bracket is narrow enough but the
 * interval is not, the bracket's ends get R more repeats over the whole split.
 */
export async function adaptiveMidpoint(evaluate: CellEvaluator, options: AdaptiveOptions): Promise<AdaptiveResult> {
  const [from, to] = options.range ?? [1e-2, 1e10]
  const step = options.coarseStep ?? 1
  const coarseRepeats = options.coarseRepeats ?? 1
  const repeats = options.repeats ?? 5
  const tolerance = options.toleranceDecades ?? 0.05
  const maxCells = options.maxCells ?? 150
  const sequential = options.sequential ?? true
  const z = options.decisionZ ?? 3.5
  const cells: CellCounts[] = []
  let passes = 0
  const measure = async (requests: { sigma: number; repeat: number }[], rule?: SequentialRule): Promise<void> => {
    passes++
    cells.push(...(await evaluate(requests, rule)))
  }
  const threshold = (): number => estimateMidpoint(cells, options).threshold
  const coarse = logGrid(from, to, Math.max(2, Math.round((Math.log10(to) - Math.log10(from)) / step) + 1))
  const coarseCells = coarse.flatMap((sigma) => Array.from({ length: coarseRepeats }, (_, repeat) => ({ sigma, repeat })))
  if (sequential) {
    if (options.clean === undefined) await measure([{ sigma: 0, repeat: 0 }])
    await measure(coarseCells, { threshold: threshold(), z })
  } else {
    await measure([{ sigma: 0, repeat: 0 }, ...coarseCells])
  }
  // Samples per full cell: the largest count seen (σ = 0, when measured, always runs in full).
  const full = (): number => Math.max(...cells.map((c) => c.count))
  for (;;) {
    const estimate = estimateMidpoint(cells, options)
    const result = (stopped: AdaptiveStop): AdaptiveResult => ({ estimate, cells, passes, stopped })
    if (estimate.status !== 'found') return result('out-of-range')
    // A hair of slack: a bracket built as m ± tolerance/2 must count as within tolerance despite rounding.
    const within = (decades: number): boolean => decades <= tolerance * (1 + 1e-9)
    const [la, lb] = estimate.bracket!.map(Math.log10) as [number, number]
    const atSigma = (sigma: number): CellCounts[] => cells.filter((c) => c.sigma === sigma)
    const fullAt = (sigma: number): number => atSigma(sigma).filter((c) => c.count === full()).length
    if (within(estimate.ciDecades) && within(estimate.bracketDecades) && (!sequential || estimate.bracket!.every((s) => fullAt(s) > 0))) {
      return result('tolerance')
    }
    const requests: { sigma: number; repeat: number }[] = []
    let rule: SequentialRule | undefined
    if (sequential && lb - la > 4 * tolerance) {
      // Bisection: one cell, only to learn on which side of the threshold the bracket's log-midpoint lies.
      requests.push({ sigma: 10 ** ((la + lb) / 2), repeat: 0 })
      rule = { threshold: estimate.threshold, z }
    } else if (!within(estimate.bracketDecades)) {
      const m = Math.log10(estimate.sigma!)
      const logs = [m - tolerance / 2, m + tolerance / 2, ...(lb - la > 4 * tolerance ? [(la + lb) / 2] : [])]
      const inside = logs.filter((l) => l > la + 1e-9 && l < lb - 1e-9).sort((a, b) => a - b)
      const distinct = inside.filter((l, i) => i === 0 || l - inside[i - 1]! > 1e-6)
      for (const l of distinct) for (let repeat = 0; repeat < repeats; repeat++) requests.push({ sigma: 10 ** l, repeat })
    } else {
      // Narrow bracket, wide interval (or ends measured only sequentially): R more full repeats at both ends.
      for (const sigma of estimate.bracket!) {
        const have = atSigma(sigma).length
        for (let repeat = have; repeat < have + repeats; repeat++) requests.push({ sigma, repeat })
      }
    }
    if (requests.length === 0) return result('no-progress')
    if (cells.length + requests.length > maxCells) return result('budget')
    await measure(requests, rule)
  }
}

/** The midpoint from a dense grid: evaluate every σ with every repeat in one go. */
export async function denseMidpoint(
  evaluate: CellEvaluator,
  options: MidpointOptions & { sigmas?: readonly number[]; repeats?: number },
): Promise<AdaptiveResult> {
  const sigmas = options.sigmas ?? logGrid()
  const repeats = options.repeats ?? 5
  const cells = await evaluate([{ sigma: 0, repeat: 0 }, ...sigmas.flatMap((sigma) => Array.from({ length: repeats }, (_, repeat) => ({ sigma, repeat })))])
  return { estimate: estimateMidpoint(cells, options), cells, passes: 1, stopped: 'tolerance' }
}

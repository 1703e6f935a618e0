// Input checks and small shared helpers for the uncertainty metrics: shapes, labels, finiteness, top-1 predictions,
// curve thinning. Probabilities are N×C row-major softmax outputs in Float32Arrays; labels are class indices.

/** The floor a probability is clamped to before a log: a zero probability costs −ln(1e-12) ≈ 27.63 nats, not ∞. */
export const PROB_FLOOR = 1e-12

/** Points a plotted curve is thinned to by default. */
export const DEFAULT_MAX_POINTS = 200

/** Any readable run of numbers: a typed array or a plain array. */
export type Scores = ArrayLike<number>

export function checkClasses(classes: number): void {
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`The number of classes is ${classes}; it must be a whole number of at least 2.`)
}

/** A whole-number setting (bins, points) of at least `min`. */
export function checkWhole(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`The ${name} is ${value}; it must be a whole number of at least ${min}.`)
}

/**
 * The number of samples N in N×C probabilities. Throws unless the array is non-empty, holds whole rows of `classes`
 * values, and every value is finite and ≥ 0 (row sums are not checked: float32 softmax rows are off by rounding).
 */
export function checkProbs(probs: Float32Array, classes: number, what = 'The probabilities'): number {
  checkClasses(classes)
  if (probs.length === 0) throw new Error(`${what} are empty; give at least one sample.`)
  if (probs.length % classes !== 0) throw new Error(`${what} hold ${probs.length} values, which is not a whole number of rows of ${classes} classes.`)
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!
    if (!(p >= 0 && p < Infinity)) throw new Error(`${what} hold ${p} at index ${i}; every probability must be a finite number of at least 0.`)
  }
  return probs.length / classes
}

/** Throws unless there is one label per sample and each is a class index 0…classes−1. */
export function checkLabels(labels: Int32Array, samples: number, classes: number): void {
  if (labels.length !== samples) throw new Error(`There are ${labels.length} labels for ${samples} samples; give exactly one label per sample.`)
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!
    if (y < 0 || y >= classes) throw new Error(`Label ${i} is ${y}; a label must be a class index from 0 to ${classes - 1}.`)
  }
}

/** Probabilities and labels together; returns N. */
export function checkLabelled(probs: Float32Array, labels: Int32Array, classes: number): number {
  const samples = checkProbs(probs, classes)
  checkLabels(labels, samples, classes)
  return samples
}

/** The number of samples N shared by all members of an ensemble; throws unless there is ≥ 1 member and all have one size. */
export function checkMembers(members: readonly Float32Array[], classes: number, what = 'The ensemble'): number {
  const first = members[0]
  if (first === undefined) throw new Error(`${what} has no members; give at least one.`)
  for (let m = 1; m < members.length; m++) {
    const size = members[m]!.length
    if (size !== first.length)
      throw new Error(`${what}'s member ${m} holds ${size} values but member 0 holds ${first.length}; all members must have the same size.`)
  }
  let samples = 0
  for (let m = 0; m < members.length; m++) samples = checkProbs(members[m]!, classes, `${what}'s member ${m}`)
  return samples
}

/** Throws unless the scores are non-empty and finite. */
export function checkScores(scores: Scores, what: string): void {
  if (scores.length === 0) throw new Error(`${what} are empty; give at least one score.`)
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!
    if (!Number.isFinite(s)) throw new Error(`${what} hold ${s} at index ${i}; every score must be a finite number.`)
  }
}

/** Index of the largest of `classes` values from `offset`; a tie goes to the lowest index. */
export function argmaxRow(values: ArrayLike<number>, offset: number, classes: number): number {
  let best = 0
  let top = values[offset]!
  for (let c = 1; c < classes; c++) {
    const v = values[offset + c]!
    if (v > top) {
      top = v
      best = c
    }
  }
  return best
}

/** Per sample: the top-1 confidence max_c p_c and whether the argmax (ties to the lowest class) equals the label. */
export interface TopOne {
  confidence: Float64Array
  correct: Uint8Array
}

/** Top-1 confidence and correctness of already-checked probabilities. */
export function topOne(probs: Float32Array, labels: Int32Array, classes: number): TopOne {
  const samples = labels.length
  const confidence = new Float64Array(samples)
  const correct = new Uint8Array(samples)
  for (let i = 0; i < samples; i++) {
    const predicted = argmaxRow(probs, i * classes, classes)
    confidence[i] = probs[i * classes + predicted]!
    correct[i] = predicted === labels[i]! ? 1 : 0
  }
  return { confidence, correct }
}

/**
 * Indices 0…count−1 thinned to at most maxPoints, evenly spaced (round(i·(count−1)/(maxPoints−1))), always keeping
 * the first and the last.
 */
export function thinIndices(count: number, maxPoints: number): number[] {
  checkWhole(maxPoints, 'number of curve points', 2)
  if (count <= maxPoints) return Array.from({ length: count }, (_, i) => i)
  return Array.from({ length: maxPoints }, (_, i) => Math.round((i * (count - 1)) / (maxPoints - 1)))
}

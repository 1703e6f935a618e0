// Fitting an analog device model to probe measurements: per-column gain by least squares on the unsaturated points,
// the saturation level from the plateaus, and the integration order by which candidate model explains the ordering
// probes best. Pure numbers in, numbers out; the calibration job does the probing.

export interface RampProbe {
  /** Ideal integer sum Σ xq·wq of each probe vector (the same on every column). */
  sums: readonly number[]
  /** Mean ADC code per vector and column, [vector][column]. */
  codes: readonly Float32Array[]
}

export interface ColumnFit {
  gain: number[]
  r2: number[]
}

/**
 * Per column: code − offset = gain · requestedGain · sum on the points clearly below saturation, fitted through the
 * origin (the offset is measured separately). Points within 20% of the plateau are left out: they may be clipped.
 */
export function fitColumnGains(ramp: RampProbe, offsets: readonly number[], requestedGain: number, saturation: number): ColumnFit {
  const columns = offsets.length
  const gain: number[] = []
  const r2: number[] = []
  for (let j = 0; j < columns; j++) {
    let sxy = 0
    let sxx = 0
    const xs: number[] = []
    const ys: number[] = []
    ramp.sums.forEach((sum, v) => {
      const y = ramp.codes[v]![j]! - offsets[j]!
      if (Math.abs(y) > 0.8 * saturation) return
      const x = requestedGain * sum
      sxy += x * y
      sxx += x * x
      xs.push(x)
      ys.push(y)
    })
    const g = sxx > 0 ? sxy / sxx : 1
    gain.push(g)
    const mean = ys.reduce((a, b) => a + b, 0) / Math.max(1, ys.length)
    const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0)
    const residual = ys.reduce((a, y, i) => a + (y - g * xs[i]!) ** 2, 0)
    r2.push(total > 0 ? 1 - residual / total : 0)
  }
  return { gain, r2 }
}

/** The integrator's clip level: the median over columns of |plateau − offset|, from vectors driven far into saturation. */
export function fitSaturation(plateauCodes: readonly Float32Array[], offsets: readonly number[]): number {
  const levels: number[] = []
  for (const codes of plateauCodes) for (let j = 0; j < offsets.length; j++) levels.push(Math.abs(codes[j]! - offsets[j]!))
  return median(levels)
}

export function median(values: readonly number[]): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1))
  return { mean, std }
}

/** Root mean square difference of two equally long code arrays. */
export function rms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2
  return Math.sqrt(sum / Math.max(1, a.length))
}

// The per-layer latency cost model: each layer's time measured on a board at a grid of keep fractions × bit widths
// (uniform policies), fitted per layer and width as t = a + b·inputs + c·MACs, summed over layers. The inputs term is
// the work that grows with the layer's input channels alone (im2col, reading the input), which pruning the layer's own
// outputs does not shrink; it lets the model predict policies off the uniform grid's diagonal.

/** One layer's measured time at one configuration: its input channels (features), MACs per sample, and bits. */
export interface CostSample {
  layer: string
  inputs: number
  macs: number
  /** 1…8, or 32 for float. */
  bits: number
  seconds: number
}

/**
 * Keep fractions and bit widths the board is profiled at: 5 × 9 uniform policies, each one network measurement. Every
 * width a policy can take is profiled, because the agent's kernels differ by width (bit-serial below 8, int8, float).
 */
export const PROFILE_KEEPS = [0.1, 0.25, 0.5, 0.75, 1] as const
export const PROFILE_BITS = [1, 2, 3, 4, 5, 6, 7, 8, 32] as const
export const PROFILE_POINTS = PROFILE_KEEPS.length * PROFILE_BITS.length

export interface LayerQuery {
  layer: string
  inputs: number
  macs: number
  bits: number
}

export interface CostModel {
  /** Predicted seconds of one layer. */
  layerSeconds(query: LayerQuery): number
  /** Predicted seconds of a network: the sum of its layers. */
  networkSeconds(layers: readonly LayerQuery[]): number
}

type Fit = (inputs: number, macs: number) => number

// A ridge this small only decides between collinear columns (a first layer's inputs never change); it does not bias a
// well-posed fit measurably.
const RIDGE = 1e-9

/** Least squares of t on [1, inputs, macs] with the columns scaled to [0, 1]; a prediction is never below zero. */
function fitLayer(points: readonly CostSample[]): Fit {
  const inScale = Math.max(...points.map((p) => p.inputs), 1)
  const macScale = Math.max(...points.map((p) => p.macs), 1)
  const rows = points.map((p) => [1, p.inputs / inScale, p.macs / macScale])
  // Normal equations (XᵀX + λI') w = Xᵀt, solved by Gaussian elimination on the 3×3 system.
  const a = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((s, r) => s + r[i]! * r[j]!, 0) + (i === j && i > 0 ? RIDGE : 0)))
  const b = [0, 1, 2].map((i) => rows.reduce((s, r, k) => s + r[i]! * points[k]!.seconds, 0))
  const w = solve3(a, b)
  return (inputs, macs) => Math.max(0, w[0]! + (w[1]! * inputs) / inScale + (w[2]! * macs) / macScale)
}

function solve3(matrix: number[][], rhs: number[]): number[] {
  const m = matrix.map((row, i) => [...row, rhs[i]!])
  for (let col = 0; col < 3; col++) {
    let pivot = col
    for (let r = col + 1; r < 3; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r
    ;[m[col], m[pivot]] = [m[pivot]!, m[col]!]
    const p = m[col]![col]!
    if (Math.abs(p) < 1e-300) return [rhs[0]! / Math.max(matrix[0]![0]!, 1), 0, 0]
    for (let r = 0; r < 3; r++) {
      if (r === col) continue
      const f = m[r]![col]! / p
      for (let c = col; c < 4; c++) m[r]![c]! -= f * m[col]![c]!
    }
  }
  return [0, 1, 2].map((i) => m[i]![3]! / m[i]![i]!)
}

const widthOf = (bits: number) => (bits > 8 ? 32 : bits)

export function buildCostModel(samples: readonly CostSample[]): CostModel {
  const byLayer = new Map<string, Map<number, CostSample[]>>()
  for (const s of samples) {
    if (!(s.seconds >= 0 && s.macs >= 0 && s.inputs >= 0))
      throw new Error(`A cost sample of layer '${s.layer}' is not a time: ${s.seconds} s at ${s.macs} MACs.`)
    const widths = byLayer.get(s.layer) ?? new Map<number, CostSample[]>()
    byLayer.set(s.layer, widths)
    widths.set(widthOf(s.bits), [...(widths.get(widthOf(s.bits)) ?? []), s])
  }
  const fits = new Map([...byLayer].map(([layer, widths]) => [layer, new Map([...widths].map(([bits, points]) => [bits, fitLayer(points)]))]))

  const layerSeconds = ({ layer, inputs, macs, bits }: LayerQuery): number => {
    const widths = fits.get(layer)
    if (!widths) throw new Error(`The cost model has no measurements of layer '${layer}'.`)
    const at = widthOf(bits)
    const exact = widths.get(at)
    if (exact) return exact(inputs, macs)
    // A width the profile skipped: linear in bits between the neighbouring profiled widths, else the nearest one.
    const narrow = [...widths.keys()].filter((b) => b <= 8).sort((x, y) => x - y)
    const below = narrow.filter((b) => b < at).at(-1)
    const above = narrow.find((b) => b > at) ?? (at === 32 ? undefined : narrow.at(-1))
    const near = below ?? above ?? [...widths.keys()][0]!
    if (below === undefined || above === undefined || above === below) return widths.get(near)!(inputs, macs)
    const t = (at - below) / (above - below)
    return (1 - t) * widths.get(below)!(inputs, macs) + t * widths.get(above)!(inputs, macs)
  }
  return { layerSeconds, networkSeconds: (layers) => layers.reduce((sum, l) => sum + layerSeconds(l), 0) }
}

/** |predicted − measured| / measured over measured policies: median and worst. */
export function predictionError(pairs: readonly { predicted: number; measured: number }[]): { median: number; worst: number; count: number } | null {
  const errors = pairs.filter((p) => p.measured > 0).map((p) => Math.abs(p.predicted - p.measured) / p.measured)
  if (errors.length === 0) return null
  errors.sort((a, b) => a - b)
  const mid = errors.length >> 1
  const median = errors.length % 2 ? errors[mid]! : (errors[mid - 1]! + errors[mid]!) / 2
  return { median, worst: errors.at(-1)!, count: errors.length }
}

// The robustness study's grid (which trainings) and its analysis (group the repeats, compare the methods per bit
// width in plain words). Pure: the job runs the grid, the service and the CLI read the analysis.
import { groupKey, groupLabel, type StudyGroup, type StudyVariant } from '../contract/index.ts'
import { normalQuantile } from './midpoint.ts'

// The grid itself is pure and shared with the renderer (its training count), so it lives in the contract.
export { groupKey, studyVariants } from '../contract/index.ts'

type VariantResult = StudyVariant & {
  cleanAccuracy: number | null
  curve: { sigma: number; accuracy: number; low: number; high: number }[]
  globalMidpoint: { sigma: number | null; ci: [number | null, number | null] } | null
  layerMidpoints: Record<string, number | null>
}

// Two-sided 97.5% quantiles of Student's t for 1…30 degrees of freedom; beyond, the normal one.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
]
const t975 = (df: number): number => T975[df - 1] ?? normalQuantile(0.975)

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

/** Mean and 95% t half-width of a sample (half-width null below two values). */
function tInterval(values: readonly number[]): { mean: number; half: number | null } {
  const m = mean(values)
  if (values.length < 2) return { mean: m, half: null }
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1))
  return { mean: m, half: (t975(values.length - 1) * sd) / Math.sqrt(values.length) }
}

/** The per-repeat log ratios of a group's midpoints to float's of the same repeat (same seed), as a ratio and interval. */
function pairedWithFloat(members: readonly VariantResult[], float: readonly VariantResult[]): StudyGroup['versusFloat'] {
  const logs: number[] = []
  for (const m of members) {
    const partner = float.find((f) => f.repeat === m.repeat)
    const [a, b] = [m.globalMidpoint?.sigma, partner?.globalMidpoint?.sigma]
    if (a != null && b != null) logs.push(Math.log10(a / b))
  }
  const { mean: m, half } = tInterval(logs)
  return half === null ? null : { ratio: 10 ** m, ci: [10 ** (m - half), 10 ** (m + half)], pairs: logs.length }
}

/** Repeats pooled per (method, bits, scale, σ): midpoints averaged on log σ, since they spread over decades. */
export function groupVariants(variants: readonly VariantResult[]): StudyGroup[] {
  const float = variants.filter((v) => v.method === 'float')
  const byKey = new Map<string, VariantResult[]>()
  for (const v of variants) byKey.set(groupKey(v), [...(byKey.get(groupKey(v)) ?? []), v])
  return [...byKey].map(([key, members]) => {
    const first = members[0]!
    const clean = members.map((m) => m.cleanAccuracy).filter((a): a is number => a !== null)
    const found = members.filter((m) => m.globalMidpoint?.sigma != null)
    const logs = found.map((m) => Math.log10(m.globalMidpoint!.sigma!))
    let midpoint: number | null = null
    let ci: [number | null, number | null] = [null, null]
    if (logs.length === 1) {
      midpoint = found[0]!.globalMidpoint!.sigma
      ci = found[0]!.globalMidpoint!.ci
    } else if (logs.length > 1) {
      const { mean: m, half } = tInterval(logs)
      midpoint = 10 ** m
      ci = [10 ** (m - half!), 10 ** (m + half!)]
    }
    const sigmas = [...new Set(members.flatMap((m) => m.curve.map((p) => p.sigma)))].sort((a, b) => a - b)
    const curve = sigmas.map((sigma) => {
      const points = members.flatMap((m) => m.curve.filter((p) => p.sigma === sigma))
      return { sigma, accuracy: mean(points.map((p) => p.accuracy)), low: Math.min(...points.map((p) => p.low)), high: Math.max(...points.map((p) => p.high)) }
    })
    const layers = [...new Set(members.flatMap((m) => Object.keys(m.layerMidpoints)))]
    const layerMidpoints = Object.fromEntries(
      layers.map((id) => {
        const values = members.map((m) => m.layerMidpoints[id]).filter((s): s is number => s != null)
        return [id, values.length ? 10 ** mean(values.map(Math.log10)) : null]
      }),
    )
    return {
      key,
      label: groupLabel(first),
      method: first.method,
      bits: first.bits,
      scale: first.scale,
      sigma: first.sigma,
      trainings: members.length,
      cleanAccuracy: clean.length ? mean(clean) : null,
      midpoint,
      midpointCi: ci,
      curve,
      layerMidpoints,
      versusFloat: first.method === 'float' ? null : pairedWithFloat(members, float),
    }
  })
}

const fmt = (x: number): string => (x >= 100 || x < 0.01 ? x.toExponential(1) : Number(x.toPrecision(2)).toString())
const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)}%`)

/**
 * One sentence per bit width (and one for the float methods): the most robust method by global midpoint, its factor
 * over float, and whether the intervals separate them — so a reader does not over-read a difference within the noise.
 */
export function summarizeGroups(groups: readonly StudyGroup[]): string[] {
  const float = groups.find((g) => g.method === 'float' && g.midpoint !== null)
  const noisy = groups.filter((g) => g.method === 'noisy' && g.midpoint !== null)
  const lines: string[] = []
  const versus = (g: StudyGroup): string => {
    if (!float || g === float) return ''
    // Paired by seed when there are pairs: the seeds' shared spread cancels. Else the groups' own intervals.
    const paired = g.versusFloat
    if (paired) {
      const [low, high] = paired.ci
      const verdict = low > 1 ? 'clearly higher' : high < 1 ? 'clearly lower' : 'not a clear difference'
      return `, ${fmt(paired.ratio)}× float's ${fmt(float.midpoint!)} paired over ${paired.pairs} seeds (95% CI ${fmt(low)}–${fmt(high)}×: ${verdict})`
    }
    const factor = g.midpoint! / float.midpoint!
    const separated = g.midpointCi[0] !== null && float.midpointCi[1] !== null && g.midpointCi[0] > float.midpointCi[1]
    const below = g.midpointCi[1] !== null && float.midpointCi[0] !== null && g.midpointCi[1] < float.midpointCi[0]
    return `, ${fmt(factor)}× float's ${fmt(float.midpoint!)}${separated ? ' (intervals do not overlap)' : below ? ' (lower, intervals do not overlap)' : ' (intervals overlap: not a clear difference)'}`
  }
  const describe = (g: StudyGroup): string =>
    `${g.label}: midpoint σ ${fmt(g.midpoint!)} (95% CI ${g.midpointCi.map((c) => (c === null ? '?' : fmt(c))).join('–')}), clean ${pct(g.cleanAccuracy)}${versus(g)}`
  // Float and noisy training keep 32-bit float weights: named as such, and never the winner at a bit width.
  if (float) lines.push(`Float baseline (32-bit float) — ${describe(float)}.`)
  for (const g of noisy) lines.push(`Noisy training (32-bit float) — ${describe(g)}.`)
  const bitWidths = [...new Set(groups.filter((g) => g.bits !== null).map((g) => g.bits!))].sort((a, b) => a - b)
  for (const bits of bitWidths) {
    const candidates = groups.filter((g) => g.bits === bits && g.midpoint !== null)
    if (!candidates.length) {
      lines.push(`${bits}-bit: no midpoint yet (the models may be at chance or still training).`)
      continue
    }
    const best = candidates.reduce((a, b) => (b.midpoint! > a.midpoint! ? b : a))
    const qat = candidates.filter((g) => g.method === 'qat')
    const bestQat = qat.length ? qat.reduce((a, b) => (b.midpoint! > a.midpoint! ? b : a)) : null
    const parts = [`At ${bits} bits the most robust is ${describe(best)}.`]
    if (bestQat && bestQat !== best) parts.push(`Best QAT alone: ${describe(bestQat)}.`)
    lines.push(parts.join(' '))
  }
  return lines
}

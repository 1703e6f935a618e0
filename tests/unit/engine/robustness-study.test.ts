// The study grid and its analysis: which trainings, how repeats pool, what the summary says.
import { describe, expect, it } from 'vitest'
import { StudyParams, type StudyVariant } from '../../../src-main/contract/index.ts'
import { groupVariants, studyVariants, summarizeGroups } from '../../../src-main/engine/robustness-study.ts'

const params = (over: Partial<StudyParams> = {}) => StudyParams.parse(over)

function result(v: StudyVariant, midpoint: number | null, clean = 0.9) {
  return {
    ...v,
    cleanAccuracy: clean,
    curve: [
      { sigma: 0.1, accuracy: clean, low: clean - 0.01, high: clean + 0.01 },
      { sigma: 1, accuracy: 0.5, low: 0.45, high: 0.55 },
    ],
    globalMidpoint: midpoint === null ? null : { sigma: midpoint, ci: [midpoint / 2, midpoint * 2] as [number, number] },
    layerMidpoints: { fc1: midpoint === null ? null : midpoint * 10 },
  }
}

describe('studyVariants', () => {
  it('lays out float, noisy, QAT bits × scales and QAT + noise, repeats with paired seeds', () => {
    const variants = studyVariants(params({ repeats: 2, seed: 5, noisySigmas: [0.5, 1], qatBits: [4, 8], qatScales: [0.1, 0.2], qatNoisy: true }))
    // per repeat: float + 2 noisy + 2 bits × 2 scales × (qat + qat-noisy) = 11
    expect(variants).toHaveLength(22)
    expect(new Set(variants.map((v) => v.id)).size).toBe(22)
    expect(variants.filter((v) => v.repeat === 1).every((v) => v.seed === 6)).toBe(true)
    expect(variants.find((v) => v.id === 'qat4-c0.2-noisy0.5-r1')).toMatchObject({ method: 'qat-noisy', bits: 4, scale: 0.2, sigma: 0.5 })
  })

  it('leaves out what is switched off', () => {
    const variants = studyVariants(params({ float: false, noisySigmas: [], qatBits: [4], repeats: 1, qatNoisy: true }))
    // qat-noisy needs a noisy σ: without one there is none.
    expect(variants.map((v) => v.id)).toEqual(['qat4-c0.1-r0'])
  })

  it('defaults to the 17-point global grid from 1e-2 to 1e2', () => {
    expect(params().evaluation).toMatchObject({ from: 1e-2, to: 1e2, count: 17 })
  })
})

describe('groupVariants', () => {
  const [floatA, , qatA, , floatB, , qatB] = studyVariants(params({ repeats: 2, qatBits: [4], noisySigmas: [0.5], qatNoisy: true }))

  it('averages midpoints of repeats on log σ with a t interval', () => {
    const groups = groupVariants([result(floatA!, 1), result(floatB!, 100)])
    expect(groups).toHaveLength(1)
    const g = groups[0]!
    expect(g.trainings).toBe(2)
    expect(g.midpoint).toBeCloseTo(10, 9)
    // logs 0 and 2: sd √2, half-width t(1)·√2/√2 = 12.706 decades.
    expect(Math.log10(g.midpointCi[0]!)).toBeCloseTo(1 - 12.706, 3)
    expect(Math.log10(g.midpointCi[1]!)).toBeCloseTo(1 + 12.706, 3)
    expect(g.layerMidpoints.fc1).toBeCloseTo(100, 9)
    expect(g.curve.map((p) => p.sigma)).toEqual([0.1, 1])
  })

  it("uses one training's own interval when there is one", () => {
    const [g] = groupVariants([result(qatA!, 2)])
    expect(g).toMatchObject({ method: 'qat', bits: 4, midpoint: 2, midpointCi: [1, 4], label: 'QAT 4-bit, scale 0.1' })
  })

  it('keeps a group whose midpoints are not found, without a midpoint', () => {
    const [g] = groupVariants([result(qatA!, null), result(qatB!, null)])
    expect(g!.midpoint).toBeNull()
    expect(g!.midpointCi).toEqual([null, null])
  })
})

describe('paired comparison with float', () => {
  const [floatA, , qatA, , floatB, , qatB] = studyVariants(params({ repeats: 2, qatBits: [4], noisySigmas: [0.5], qatNoisy: true }))

  it('pairs repeats by seed, so a spread both share cancels', () => {
    // Seed 1 gives midpoints 1 and 2, seed 2 gives 10 and 20: unpaired, the intervals overlap widely; paired, QAT is 2×.
    const groups = groupVariants([result(floatA!, 1), result(floatB!, 10), result(qatA!, 2), result(qatB!, 20)])
    const qat = groups.find((g) => g.method === 'qat')!
    expect(qat.versusFloat!.ratio).toBeCloseTo(2, 9)
    expect(qat.versusFloat!.ci[0]).toBeCloseTo(2, 9)
    expect(qat.versusFloat!.pairs).toBe(2)
    expect(groups.find((g) => g.method === 'float')!.versusFloat).toBeNull()
    expect(summarizeGroups(groups).find((l) => l.startsWith('At 4 bits'))).toMatch(/2× float's 3.2 paired over 2 seeds \(95% CI 2–2×: clearly higher\)/)
  })

  it('has no paired comparison with fewer than two pairs, and says when the pairs disagree', () => {
    expect(groupVariants([result(floatA!, 1), result(qatA!, 2)]).find((g) => g.method === 'qat')!.versusFloat).toBeNull()
    const mixed = groupVariants([result(floatA!, 1), result(floatB!, 1), result(qatA!, 2), result(qatB!, 0.5)])
    const qat = mixed.find((g) => g.method === 'qat')!
    expect(qat.versusFloat!.ratio).toBeCloseTo(1, 9)
    expect(summarizeGroups(mixed).join(' ')).toMatch(/not a clear difference/)
  })
})

describe('summarizeGroups', () => {
  const variants = studyVariants(params({ repeats: 1, qatBits: [4, 8], noisySigmas: [0.5] }))
  const byId = (id: string) => variants.find((v) => v.id === id)!

  it('names the most robust method within each bit width and its factor over float, names float methods as float, and says when intervals overlap', () => {
    const groups = groupVariants([
      result(byId('float-r0'), 1),
      result(byId('noisy-s0.5-r0'), 5),
      result(byId('qat4-c0.1-r0'), 1.5),
      result(byId('qat8-c0.1-r0'), 1.2),
    ])
    const lines = summarizeGroups(groups)
    expect(lines[0]).toMatch(/^Float baseline \(32-bit float\) — /)
    expect(lines[1]).toMatch(/^Noisy training \(32-bit float\) — noisy training σ=0.5: midpoint σ 5 .*5× float's 1 \(intervals do not overlap\)/)
    // A 32-bit method is never "the most robust at 4 bits": only 4-bit methods compete there.
    const four = lines.find((l) => l.startsWith('At 4 bits'))!
    expect(four).toMatch(/^At 4 bits the most robust is QAT 4-bit, scale 0.1: midpoint σ 1.5 .*1.5× float's 1 \(intervals overlap/)
    expect(four).not.toMatch(/noisy/)
    expect(lines.find((l) => l.startsWith('At 8 bits'))).toMatch(/^At 8 bits the most robust is QAT 8-bit, scale 0.1: midpoint σ 1.2/)
  })

  it('says QAT wins when it does', () => {
    const groups = groupVariants([result(byId('float-r0'), 1), result(byId('noisy-s0.5-r0'), 2), result(byId('qat4-c0.1-r0'), 20)])
    expect(summarizeGroups(groups).find((l) => l.startsWith('At 4 bits'))).toMatch(/most robust is QAT 4-bit, scale 0.1: midpoint σ 20/)
  })
})

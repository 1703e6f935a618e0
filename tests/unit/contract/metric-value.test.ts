// Metric values across JSON: NaN and ±Infinity spelled out, read back as numbers, shown as such, gaps in plots.
import { describe, expect, it } from 'vitest'
import { formatMetric, MetricPoint, metricNumber, metricValue, plottedMetric, type MetricValue } from '../../../src-main/contract/index.ts'

describe('metric values', () => {
  it('spells NaN and ±Infinity out and reads every value back as the number it was', () => {
    for (const n of [0, -0.5, 1e300, NaN, Infinity, -Infinity]) expect(metricNumber(metricValue(n))).toBe(n)
    expect([NaN, Infinity, -Infinity].map(metricValue)).toEqual(['NaN', 'Infinity', '-Infinity'])
    expect(metricValue(0.25)).toBe(0.25)
    expect(metricNumber(undefined)).toBeNull()
    expect(metricNumber(null)).toBeNull()
  })

  it('survives JSON, which would turn the numbers into null, and passes the contract', () => {
    const points = [NaN, Infinity, -Infinity, 2].map((n, step) => ({ key: 'loss', value: metricValue(n), step, time: 0 }))
    const wire = JSON.parse(JSON.stringify(points)) as unknown[]
    expect(wire.map((p) => MetricPoint.parse(p).value).map((v) => metricNumber(v))).toEqual([NaN, Infinity, -Infinity, 2])
    // A raw non-finite number is not a contract value: it would not survive JSON.
    expect(MetricPoint.safeParse({ key: 'loss', value: Infinity, step: 0, time: 0 }).success).toBe(false)
    expect(MetricPoint.safeParse({ key: 'loss', value: 'nan', step: 0, time: 0 }).success).toBe(false)
  })

  it('formats NaN and ±Infinity as words and numbers as asked; plots get a gap (null) for them', () => {
    const values: MetricValue[] = ['NaN', 'Infinity', '-Infinity', 0.123456]
    expect(values.map((v) => formatMetric(v, (n) => n.toFixed(2)))).toEqual(['NaN', 'Infinity', '-Infinity', '0.12'])
    expect(formatMetric(3)).toBe('3')
    expect(values.map(plottedMetric)).toEqual([null, null, null, 0.123456])
  })
})

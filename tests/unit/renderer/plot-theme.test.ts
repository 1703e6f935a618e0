// logAxis: every label of a log axis reads as a value — one per decade over wide ranges, 1-2-5 written in full over a
// few (every digit when 1-2-5 gives fewer than three), plotly's own (full) ticks when too narrow for two.
import { describe, expect, it } from 'vitest'
import { logAxis } from '../../../src-renderer/lib/plot-theme.ts'

describe('logAxis', () => {
  it('labels once per decade over three decades or more', () => {
    expect(logAxis([0.1, 3, 100], { title: { text: 'σ' } })).toEqual({ type: 'log', dtick: 1, title: { text: 'σ' } })
    expect(logAxis([1e-2, 1e10])).toMatchObject({ dtick: 1 })
  })

  it('writes 1, 2 and 5 per decade in full over one to three decades', () => {
    const axis = logAxis([0.3, 40]) as { tickvals: number[]; ticktext: string[] }
    expect(axis.tickvals).toEqual([0.2, 0.5, 1, 2, 5, 10, 20, 50])
    expect(axis.ticktext).toEqual(['0.2', '0.5', '1', '2', '5', '10', '20', '50'])
    expect((logAxis([2e5, 3e7]) as { ticktext: string[] }).ticktext).toContain('2e+5')
  })

  it('labels every digit when 1, 2 and 5 are too few, and leaves a very narrow axis to plotly', () => {
    expect((logAxis([0.95, 7.4]) as { ticktext: string[] }).ticktext).toEqual(['1', '2', '5'])
    expect((logAxis([1.2, 7.4]) as { ticktext: string[] }).ticktext).toEqual(['2', '3', '4', '5', '6', '7', '8'])
    expect((logAxis([0.25, 0.9]) as { ticktext: string[] }).ticktext).toEqual(['0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1'])
    expect(logAxis([0.61, 0.62])).toEqual({ type: 'log' })
  })

  it('ignores what a log axis cannot show', () => {
    expect(logAxis([null, undefined, 0, -1, Number.NaN])).toEqual({ type: 'log' })
    expect(logAxis([null, 0.1, 1000])).toMatchObject({ dtick: 1 })
  })
})

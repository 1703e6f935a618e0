// The run comparison's state in its address, and how its columns are laid on axes: a state written and read back is
// the same state; defaults stay out of the address; log axes only where positive values span two decades.
import { describe, expect, it } from 'vitest'
import type { RunComparison } from '../../../src-main/contract/index.ts'
import { axisScale, compareColumns, insideBrushes, logTicks, spansDecades, toAxis } from '../../../src-renderer/components/runs/compare-columns.ts'
import { compareQuery, defaultCompareState, parseCompare, type CompareState } from '../../../src-renderer/state/compare-url.ts'

describe('compare address', () => {
  it('writes only the runs for a default state', () => {
    expect(compareQuery(defaultCompareState(['a', 'b'])).toString()).toBe('runs=a%2Cb')
  })

  it('reads back every part it writes', () => {
    const state: CompareState = {
      runs: ['3f2a', '77b1', 'c0de'],
      diff: ['params', 'artifacts'],
      find: { params: 'lr', metrics: 'acc,uracy', tags: '', artifacts: '' },
      stat: 'best',
      axes: ['p:lr', 'm:test_accuracy', 'p:odd,key:with=chars'],
      color: 'm:test_accuracy',
      brushes: [
        { axis: 'p:lr', range: [0.0316, 0.1] },
        { axis: 'p:odd,key:with=chars', range: [1, 2] },
      ],
      scatterX: 'p:lr',
      scatterY: 'm:loss',
      x: 'time',
      logY: true,
      smooth: 0.6,
      group: 'optimizer',
    }
    const query = compareQuery(state)
    expect(parseCompare(new URLSearchParams(query.toString()))).toEqual(state)
  })

  it('ignores what it cannot read', () => {
    const state = parseCompare(new URLSearchParams('runs=a,,a,b&diff=params,nonsense&stat=median&brush=x,1,p:lr&brush=1,2,q:bad&smooth=7&axis=zzz'))
    expect(state.runs).toEqual(['a', 'b'])
    expect(state.diff).toEqual(['params'])
    expect(state.stat).toBe('last')
    expect(state.brushes).toEqual([])
    expect(state.smooth).toBe(0.99)
    expect(state.axes).toEqual([])
  })

  it('writes an address whose parts come in another order back in its own order', () => {
    const query = new URLSearchParams('group=optimizer&smooth=0.6&runs=a,b&log=1')
    expect(compareQuery(parseCompare(query)).toString()).toBe('runs=a%2Cb&log=1&smooth=0.6&group=optimizer')
  })

  it('keeps a brush low before high', () => {
    expect(parseCompare(new URLSearchParams('runs=a,b&brush=5,2,m:loss')).brushes).toEqual([{ axis: 'm:loss', range: [2, 5] }])
  })
})

describe('compare columns', () => {
  const comparison: RunComparison = {
    runs: [],
    params: [
      { key: 'lr', values: ['0.1', '0.01', '0.001'], differs: true },
      { key: 'optimizer', values: ['adam', null, 'sgd'], differs: true },
    ],
    metrics: [
      {
        key: 'loss',
        direction: 'min',
        differs: true,
        bestRun: 1,
        stats: [{ last: 0.9, min: 0.8, max: 2, best: 0.8, points: 3, lastStep: 2 }, { last: 0.2, min: 0.2, max: 2, best: 0.2, points: 3, lastStep: 2 }, null],
      },
    ],
    tags: [],
    artifacts: [],
  }

  it('reads numeric params as numbers and metrics by the statistic asked', () => {
    const [lr, optimizer, loss] = compareColumns(comparison, 'min')
    expect(lr).toMatchObject({ id: 'p:lr', numeric: true, values: [0.1, 0.01, 0.001] })
    expect(optimizer).toMatchObject({ id: 'p:optimizer', numeric: false, values: ['adam', null, 'sgd'] })
    expect(loss).toMatchObject({ id: 'm:loss', label: 'loss (min)', values: [0.8, 0.2, null], direction: 'min' })
  })

  it('lays values spanning two decades on a log axis, text on categories', () => {
    const [lr, optimizer, loss] = compareColumns(comparison)
    expect(spansDecades([0.1, 0.001])).toBe(true)
    expect(spansDecades([0.1, 0.002])).toBe(false)
    expect(spansDecades([0, 1, 1000])).toBe(false)
    expect(axisScale(lr!)).toEqual({ kind: 'log', min: 0.001, max: 0.1 })
    expect(axisScale(optimizer!)).toEqual({ kind: 'category', categories: ['–', 'adam', 'sgd'] })
    expect(axisScale(loss!).kind).toBe('linear')
    expect(toAxis(axisScale(lr!), 0.01)).toBeCloseTo(-2, 12)
    expect(toAxis(axisScale(optimizer!), null)).toBe(0)
  })

  it('labels a log axis with the real values of its decades', () => {
    expect(logTicks(0.001, 0.1)).toEqual({ vals: [-3, -2, -1], text: ['0.001', '0.01', '0.1'] })
    // Less than three decades inside: the ends are labelled too.
    const few = logTicks(0.5, 80)
    expect(few.vals[0]).toBeCloseTo(Math.log10(0.5), 12)
    expect(few.text).toEqual(['0.5', '1', '10', '80'])
  })

  it('tells which runs are inside every brushed axis', () => {
    const columns = compareColumns(comparison)
    expect(insideBrushes(columns, [{ axis: 'p:lr', range: [0.005, 0.2] }], 3)).toEqual([true, true, false])
    expect(
      insideBrushes(
        columns,
        [
          { axis: 'p:lr', range: [0.005, 0.2] },
          { axis: 'm:loss', range: [0, 0.5] },
        ],
        3,
      ),
    ).toEqual([false, true, false])
    // Two ranges on one axis: inside either.
    expect(
      insideBrushes(
        columns,
        [
          { axis: 'p:lr', range: [0.0005, 0.002] },
          { axis: 'p:lr', range: [0.05, 0.2] },
        ],
        3,
      ),
    ).toEqual([true, false, true])
  })
})

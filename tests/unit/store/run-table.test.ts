// The run table on a real store: paging and totals, sorting (missing keys last both ways, stable ties), columns,
// filters combined with a query, the keys for the column pickers, metric_last kept by its trigger, and query plans
// that seek through indexes instead of scanning metrics or params.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RunQuery, parseRunQuery } from '../../../src-main/contract/index.ts'
import { distinctKeysSql, pageStatements } from '../../../src-main/store/run-table.ts'
import { Store } from '../../../src-main/store/store.ts'
import { tempHome } from '../../helpers/temp-home.ts'

describe('RunTable', () => {
  let home: ReturnType<typeof tempHome>
  let store: Store
  const NOW = 1_800_000_000_000

  /** A run created at `created` (ms) with params and single-step metrics; returns its uuid. */
  const run = (name: string, created: number, params: Record<string, string> = {}, metrics: Record<string, number> = {}): string => {
    const { uuid } = store.runs.create({ name, kind: 'train' })
    for (const [key, value] of Object.entries(params)) store.runs.logParam(uuid, key, value)
    store.runs.logMetrics(
      uuid,
      Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, time: 0 })),
    )
    store.db.prepare(`UPDATE runs SET created_at = ? WHERE uuid = ?`).run(created, uuid)
    return uuid
  }
  const page = (query: RunQuery, now = NOW) => {
    const parsed = RunQuery.parse(query)
    return store.runTable.page(parsed, parsed.where ? parseRunQuery(parsed.where) : null, now)
  }
  const names = (query: RunQuery) => page(query).rows.map((r) => r.name)

  beforeEach(() => {
    home = tempHome()
    store = new Store({ dataDir: home.dir })
  })
  afterEach(() => {
    store.close()
    home.remove()
  })

  describe('paging and totals', () => {
    beforeEach(() => {
      for (let i = 0; i < 25; i++) run(`r${String(i).padStart(2, '0')}`, 1000 + i, { i: String(i), even: String(i % 2 === 0) })
    })

    it('pages newest first by default, with the total of all matches on every page', () => {
      const first = page({ limit: 10 })
      expect(first.rows.map((r) => r.name)).toEqual(['r24', 'r23', 'r22', 'r21', 'r20', 'r19', 'r18', 'r17', 'r16', 'r15'])
      expect(first).toMatchObject({ total: 25, offset: 0 })
      const all = [0, 10, 20].flatMap((offset) => {
        const p = page({ limit: 10, offset })
        expect(p.total).toBe(25)
        expect(p.offset).toBe(offset)
        return p.rows.map((r) => r.name)
      })
      expect(all).toEqual(Array.from({ length: 25 }, (_, i) => `r${String(24 - i).padStart(2, '0')}`))
      expect(page({ limit: 10, offset: 20 }).rows).toHaveLength(5)
      expect(page({ limit: 10, offset: 40 })).toMatchObject({ rows: [], total: 25, offset: 40 })
    })

    it('counts only what the filter and the query match', () => {
      expect(page({ limit: 5, where: 'params.even = true' })).toMatchObject({ total: 13 })
      expect(page({ limit: 5, where: 'params.even = true and params.i >= 20' })).toMatchObject({ total: 3 })
      expect(page({ limit: 50, where: 'params.i < 3' })).toMatchObject({ total: 3 })
      expect(page({ where: 'params.i > 100' })).toEqual({ rows: [], total: 0, offset: 0 })
      expect(page({ offset: 3, where: 'params.i < 3' })).toEqual({ rows: [], total: 3, offset: 3 })
    })

    it('sorts by created ascending too, ties by rowid the same way', () => {
      const tied = [run('tie-a', 5000), run('tie-b', 5000)]
      expect(tied).toHaveLength(2)
      expect(names({ limit: 3, sort: { by: 'created', direction: 'asc' } })).toEqual(['r00', 'r01', 'r02'])
      expect(names({ limit: 2, sort: { by: 'created', direction: 'desc' } })).toEqual(['tie-b', 'tie-a'])
      expect(names({ limit: 2, offset: 25, sort: { by: 'created', direction: 'asc' } })).toEqual(['tie-a', 'tie-b'])
    })
  })

  describe('sorting by params and metrics', () => {
    beforeEach(() => {
      run('acc-0.5', 1, { lr: '0.1' }, { acc: 0.5 })
      run('acc-0.9', 2, { lr: '1e-3' }, { acc: 0.9 })
      run('no-acc-old', 3, { lr: 'adaptive' })
      run('acc-0.7', 4, { lr: '0.01' }, { acc: 0.7 })
      run('no-acc-new', 5)
      run('acc-0.7-newer', 6, { lr: '10' }, { acc: 0.7 })
    })

    it('sorts by a metric either way, runs without it last both times, ties newest first', () => {
      const byAcc = (direction: 'asc' | 'desc') => names({ sort: { by: { kind: 'metric', key: 'acc' }, direction } })
      expect(byAcc('desc')).toEqual(['acc-0.9', 'acc-0.7-newer', 'acc-0.7', 'acc-0.5', 'no-acc-new', 'no-acc-old'])
      expect(byAcc('asc')).toEqual(['acc-0.5', 'acc-0.7-newer', 'acc-0.7', 'acc-0.9', 'no-acc-new', 'no-acc-old'])
    })

    it('sorts a param as a number when it holds one, text above every number, missing last', () => {
      const byLr = (direction: 'asc' | 'desc') => names({ sort: { by: { kind: 'param', key: 'lr' }, direction } })
      expect(byLr('asc')).toEqual(['acc-0.9', 'acc-0.7', 'acc-0.5', 'acc-0.7-newer', 'no-acc-old', 'no-acc-new'])
      expect(byLr('desc')).toEqual(['no-acc-old', 'acc-0.7-newer', 'acc-0.5', 'acc-0.7', 'acc-0.9', 'no-acc-new'])
    })

    it('pages through a sorted table without losing or repeating a run', () => {
      const sort = { by: { kind: 'metric', key: 'acc' }, direction: 'desc' } as const
      const paged = [0, 2, 4].flatMap((offset) => names({ sort, limit: 2, offset }))
      expect(paged).toEqual(names({ sort }))
    })

    it('shows the chosen columns in order: params as text, metrics as numbers, null where the run lacks the key', () => {
      const rows = page({
        columns: [
          { kind: 'metric', key: 'acc' },
          { kind: 'param', key: 'lr' },
          { kind: 'metric', key: 'nothing' },
        ],
      }).rows
      const values = Object.fromEntries(rows.map((r) => [r.name, r.values]))
      expect(values).toEqual({
        'acc-0.5': [0.5, '0.1', null],
        'acc-0.9': [0.9, '1e-3', null],
        'no-acc-old': [null, 'adaptive', null],
        'acc-0.7': [0.7, '0.01', null],
        'no-acc-new': [null, null, null],
        'acc-0.7-newer': [0.7, '10', null],
      })
    })
  })

  describe('attributes, durations and filters', () => {
    it('sorts by name without regard to case, and by duration with runs not started last', () => {
      const at = (name: string, start: number | null, end: number | null) => {
        const uuid = run(name, 100)
        store.db.prepare(`UPDATE runs SET start_time = ?, end_time = ? WHERE uuid = ?`).run(start, end, uuid)
      }
      at('b-long', 0, 60_000)
      at('A-short', 0, 5_000)
      at('c-queued', null, null)
      at('D-running', NOW - 30_000, null)
      expect(names({ sort: { by: 'name', direction: 'asc' } })).toEqual(['A-short', 'b-long', 'c-queued', 'D-running'])
      expect(names({ sort: { by: 'duration', direction: 'desc' } })).toEqual(['b-long', 'D-running', 'A-short', 'c-queued'])
      expect(names({ sort: { by: 'duration', direction: 'asc' } })).toEqual(['A-short', 'D-running', 'b-long', 'c-queued'])
      const durations = Object.fromEntries(page({}).rows.map((r) => [r.name, r.durationS]))
      expect(durations).toEqual({ 'b-long': 60, 'A-short': 5, 'c-queued': null, 'D-running': 30 })
    })

    it('applies kind, status, tag, text and deleted together with the query', () => {
      const a = run('alpha', 1, { bits: '4' })
      const b = run('beta', 2, { bits: '4' })
      const c = run('gamma', 3, { bits: '8' })
      store.runs.addTag(a, 'keep')
      store.runs.setDeleted(b, true)
      store.db.prepare(`UPDATE runs SET kind = 'evaluate', status = 'FAILED' WHERE uuid = ?`).run(c)
      expect(names({ where: 'params.bits = 4' })).toEqual(['alpha'])
      expect(names({ where: 'params.bits = 4', includeDeleted: true })).toEqual(['beta', 'alpha'])
      expect(page({ where: 'params.bits = 4', includeDeleted: true }).rows[0]!.deleted).toBe(true)
      expect(names({ where: 'params.bits > 0', kind: 'evaluate' })).toEqual(['gamma'])
      expect(names({ where: 'params.bits > 0', status: 'FAILED' })).toEqual(['gamma'])
      expect(names({ where: 'params.bits > 0', tag: 'keep' })).toEqual(['alpha'])
      expect(names({ where: 'params.bits > 0', text: 'amm' })).toEqual(['gamma'])
    })
  })

  describe('runColumns', () => {
    it('lists the distinct param and metric keys of live runs, sorted; deleted runs only when asked', () => {
      const live = run('live', 1, { lr: '0.1', bits: '4' }, { acc: 1, loss: 2 })
      run('other', 2, { lr: '0.2' }, { acc: 0.5 })
      const gone = run('gone', 3, { secret: 'x' }, { old_metric: 1 })
      store.runs.setDeleted(gone, true)
      // A metric with only non-finite points has no last value: it is not offered as a column.
      store.runs.logMetrics(live, [{ key: 'inf_only', value: Infinity, step: 0, time: 0 }])
      expect(store.runTable.columns(false)).toEqual({ params: ['bits', 'lr'], metrics: ['acc', 'loss'] })
      expect(store.runTable.columns(true)).toEqual({ params: ['bits', 'lr', 'secret'], metrics: ['acc', 'loss', 'old_metric'] })
    })

    it('answers an empty store with no keys', () => {
      expect(store.runTable.columns(false)).toEqual({ params: [], metrics: [] })
    })
  })

  describe('metric_last, kept by a trigger', () => {
    const last = (uuid: string) =>
      store.db.prepare(`SELECT key, step, value FROM metric_last WHERE run_uuid = ? ORDER BY key`).all(uuid) as { key: string; step: number; value: number }[]

    it('holds the point at the highest step (a repeat of a step is ignored), skipping NaN and ±Infinity, over batches in any order', () => {
      const uuid = run('r', 1)
      store.runs.logMetrics(uuid, [
        { key: 'a', value: 1, step: 5, time: 0 },
        { key: 'a', value: 2, step: 3, time: 0 },
      ])
      store.runs.logMetrics(uuid, [{ key: 'a', value: 3, step: 5, time: 0 }])
      store.runs.logMetrics(uuid, [{ key: 'a', value: Infinity, step: 9, time: 0 }])
      store.runs.logMetrics(uuid, [{ key: 'a', value: NaN, step: 10, time: 0 }])
      store.runs.logMetrics(uuid, [{ key: 'b', value: -Infinity, step: 0, time: 0 }])
      store.runs.logMetrics(uuid, [{ key: 'b', value: NaN, step: 1, time: 0 }])
      store.runs.logMetrics(uuid, [{ key: 'c', value: 7, step: 1, time: 0 }])
      expect(last(uuid)).toEqual([
        { key: 'a', step: 5, value: 1 },
        { key: 'c', step: 1, value: 7 },
      ])
    })

    it('goes with its run when the run row is deleted', () => {
      const uuid = run('r', 1, {}, { a: 1 })
      store.db.prepare(`DELETE FROM runs WHERE uuid = ?`).run(uuid)
      expect(store.db.prepare(`SELECT count(*) FROM metric_last`).pluck().get()).toBe(0)
    })
  })

  describe('query plans at scale', () => {
    /** EXPLAIN QUERY PLAN details, one string per step. */
    const plan = (sql: string, args: unknown[]) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail)
    /** Steps that read a whole table of metrics or params (a SCAN of runs is the table itself and expected). */
    const scans = (details: string[]) => details.filter((d) => /^SCAN (m|l|p|x|metrics|metric_last|params)\b/.test(d))

    beforeEach(() => {
      // Enough rows that the planner prefers indexes as it would on a real history.
      for (let i = 0; i < 50; i++) run(`r${i}`, i, { noise_sigma: String(i / 50), arch: 'lenet5' }, { acc: i / 50, loss: 1 - i / 50 })
      store.db.exec('ANALYZE')
    })

    it('sorts, filters and counts by params and metrics through indexed seeks, not scans', () => {
      const queries: RunQuery[] = [
        {},
        { sort: { by: { kind: 'metric', key: 'acc' }, direction: 'desc' } },
        { sort: { by: { kind: 'param', key: 'noise_sigma' }, direction: 'asc' } },
        { where: 'params.noise_sigma > 0.5 and metrics.acc > 0.8 or tags = x', sort: { by: 'duration', direction: 'desc' } },
      ]
      for (const query of queries) {
        const parsed = RunQuery.parse(query)
        const statements = pageStatements(parsed, parsed.where ? parseRunQuery(parsed.where) : null, NOW)
        for (const statement of [statements.ids, statements.count]) {
          const details = plan(statement.sql, statement.args)
          expect(scans(details), `${JSON.stringify(query)}: ${details.join(' | ')}`).toEqual([])
        }
      }
    })

    it('finds the distinct keys by seeking through the key indexes', () => {
      for (const table of ['params', 'metric_last'] as const) {
        for (const includeDeleted of [false, true]) {
          const details = plan(distinctKeysSql(table, includeDeleted), [])
          expect(scans(details), details.join(' | ')).toEqual([])
          expect(details.join(' | ')).toMatch(table === 'params' ? /params_by_key/ : /metric_last_by_key/)
        }
      }
    })
  })
})

// The run query compiled to SQL and run on a real store: what each comparison matches, numbers against params held as
// text, missing keys, time spans, and queries that try to be SQL (they stay values, bound as parameters).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RunQuery, parseRunQuery, type MetricPoint } from '../../../src-main/contract/index.ts'
import { compileRunQuery } from '../../../src-main/store/run-query.ts'
import { Store } from '../../../src-main/store/store.ts'
import { tempHome } from '../../helpers/temp-home.ts'

interface Seed {
  name: string
  kind?: string
  experiment?: string
  params?: Record<string, string>
  metrics?: Partial<MetricPoint>[]
  tags?: string[]
  /** ms since the epoch; start and end as offsets from it, in seconds (null: never). */
  created?: number
  startS?: number | null
  endS?: number | null
}

describe('run queries on a real store', () => {
  let home: ReturnType<typeof tempHome>
  let store: Store
  const NOW = new Date(2026, 2, 10, 12, 0).getTime()

  const seed = (...runs: Seed[]): void => {
    for (const run of runs) {
      const { uuid } = store.runs.create({ name: run.name, kind: run.kind ?? 'train', experiment: run.experiment })
      for (const [key, value] of Object.entries(run.params ?? {})) store.runs.logParam(uuid, key, value)
      store.runs.logMetrics(
        uuid,
        (run.metrics ?? []).map((m, i) => ({ key: m.key ?? 'm', value: m.value ?? 0, step: m.step ?? i, time: 0 })),
      )
      for (const tag of run.tags ?? []) store.runs.addTag(uuid, tag)
      const created = run.created ?? NOW - 3_600_000
      const start = run.startS === null ? null : created + (run.startS ?? 1) * 1000
      const end = run.endS === null || start === null ? null : created + (run.endS ?? 61) * 1000
      store.db.prepare(`UPDATE runs SET created_at = ?, start_time = ?, end_time = ?, status = 'FINISHED' WHERE uuid = ?`).run(created, start, end, uuid)
    }
  }

  /** Names of the runs the query matches, sorted. */
  const matching = (where: string): string[] =>
    store.runTable
      .page(RunQuery.parse({ where, limit: 1000 }), parseRunQuery(where), NOW)
      .rows.map((r) => r.name)
      .sort()

  beforeEach(() => {
    home = tempHome()
    store = new Store({ dataDir: home.dir })
  })
  afterEach(() => {
    store.close()
    home.remove()
  })

  describe('params', () => {
    beforeEach(() =>
      seed(
        { name: 'a', params: { lr: '0.01', arch: 'lenet5' } },
        { name: 'b', params: { lr: '1e-3', arch: 'LeNet5-bn' } },
        { name: 'c', params: { lr: '10', arch: 'resnet8' } },
        { name: 'd', params: { lr: 'abc' } },
        { name: 'e', params: { arch: 'mlp' } },
      ),
    )

    it('compares numerically with params that hold a number, never with text that is no number', () => {
      expect(matching('params.lr < 0.05')).toEqual(['a', 'b'])
      expect(matching('params.lr > 1')).toEqual(['c'])
      expect(matching('params.lr = 0.001')).toEqual(['b'])
      expect(matching('params.lr != 0.01')).toEqual(['b', 'c'])
      expect(matching('params.lr >= -1e9')).toEqual(['a', 'b', 'c'])
    })

    it('compares as text when the literal is text (quoted numbers too)', () => {
      expect(matching(`params.lr < '0.05'`)).toEqual(['a'])
      expect(matching(`params.lr = '1e-3'`)).toEqual(['b'])
      expect(matching(`params.lr = '0.001'`)).toEqual([])
      expect(matching('params.lr = abc')).toEqual(['d'])
      expect(matching('params.arch = lenet5')).toEqual(['a'])
    })

    it('~ looks for the text, case-insensitively, also for a number literal', () => {
      expect(matching('params.arch ~ lenet')).toEqual(['a', 'b'])
      expect(matching('params.arch ~ NET5')).toEqual(['a', 'b'])
      expect(matching('params.lr ~ e-3')).toEqual(['b'])
      expect(matching('params.lr ~ 0.0')).toEqual(['a'])
    })

    it('a run without the key matches no comparison on it; not includes it', () => {
      expect(matching('params.lr != 0.01')).not.toContain('e')
      expect(matching(`params.lr != 'x'`)).not.toContain('e')
      expect(matching('not params.lr = 0.01')).toEqual(['b', 'c', 'd', 'e'])
      expect(matching('not params.lr < 0.05')).toEqual(['c', 'd', 'e'])
    })

    it('combines with and / or / not and brackets', () => {
      expect(matching('params.lr < 0.05 and params.arch ~ bn')).toEqual(['b'])
      expect(matching('params.lr > 1 or params.arch = mlp')).toEqual(['c', 'e'])
      expect(matching('not (params.lr > 1 or params.arch = mlp)')).toEqual(['a', 'b', 'd'])
      expect(matching('(params.lr > 1 or params.arch = mlp) and not params.arch = mlp')).toEqual(['c'])
    })

    it('finds keys with dots and spaces through backquotes', () => {
      seed({ name: 'dotted', params: { 'noise.sigma': '0.3', 'noise sigma': '0.7' } })
      expect(matching('params.`noise.sigma` > 0.2')).toEqual(['dotted'])
      expect(matching('params.noise.sigma > 0.2')).toEqual(['dotted'])
      expect(matching('params.`noise sigma` > 0.5')).toEqual(['dotted'])
      expect(matching('params.`noise sigma` > 0.8')).toEqual([])
    })
  })

  describe('metrics', () => {
    it('compares the last value: the point at the highest step (logged once); NaN and ±Infinity are left out', () => {
      seed(
        // Out of order: the last value is the one at step 2.
        {
          name: 'ordered',
          metrics: [
            { key: 'acc', value: 0.1, step: 0 },
            { key: 'acc', value: 0.9, step: 2 },
            { key: 'acc', value: 0.5, step: 1 },
          ],
        },
        // The highest step logged again (a resumed job): the repeat is ignored, the first point stays.
        {
          name: 'tie',
          metrics: [
            { key: 'acc', value: 0.3, step: 3 },
            { key: 'acc', value: 0.95, step: 3 },
          ],
        },
        // A diverged last step: the last finite value counts.
        {
          name: 'diverged',
          metrics: [
            { key: 'acc', value: 0.7, step: 0 },
            { key: 'acc', value: Infinity, step: 1 },
            { key: 'acc', value: -Infinity, step: 2 },
            { key: 'acc', value: NaN, step: 3 },
          ],
        },
        { name: 'none', metrics: [{ key: 'loss', value: 1, step: 0 }] },
      )
      expect(matching('metrics.acc > 0.8')).toEqual(['ordered'])
      expect(matching('metrics.acc < 0.4')).toEqual(['tie'])
      expect(matching('metrics.acc = 0.7')).toEqual(['diverged'])
      expect(matching('metrics.acc >= 0')).toEqual(['diverged', 'ordered', 'tie'])
      expect(matching('metrics.acc != 0.9')).toEqual(['diverged', 'tie'])
      expect(matching('not metrics.acc = 0.9')).toEqual(['diverged', 'none', 'tie'])
    })
  })

  describe('tags and attributes', () => {
    beforeEach(() =>
      seed(
        { name: 'MNIST baseline', kind: 'train', experiment: 'noise-study', tags: ['baseline', 'QAT-4bit'] },
        { name: 'fmnist run', kind: 'evaluate', tags: ['qat'] },
        { name: 'kws', kind: 'hil-evaluate' },
      ),
    )

    it('tags: = has the tag, != has not, ~ some tag contains the text', () => {
      expect(matching('tags = baseline')).toEqual(['MNIST baseline'])
      expect(matching('tags != baseline')).toEqual(['fmnist run', 'kws'])
      expect(matching('tags ~ qat')).toEqual(['MNIST baseline', 'fmnist run'])
      expect(matching('tags = QAT')).toEqual([])
    })

    it('name, kind, experiment and status as text; ~ is case-insensitive', () => {
      expect(matching('name ~ mnist')).toEqual(['MNIST baseline', 'fmnist run'])
      expect(matching('kind = hil-evaluate')).toEqual(['kws'])
      expect(matching('kind != train')).toEqual(['fmnist run', 'kws'])
      expect(matching('experiment = noise-study')).toEqual(['MNIST baseline'])
      expect(matching('experiment = Default')).toEqual(['fmnist run', 'kws'])
      expect(matching('status = finished')).toEqual(['MNIST baseline', 'fmnist run', 'kws'])
      expect(matching('status != FINISHED')).toEqual([])
      // Ordering compares text as stored (upper case sorts before lower case).
      expect(matching('name > k')).toEqual(['kws'])
      expect(matching('name < Z')).toEqual(['MNIST baseline'])
    })
  })

  describe('times and durations', () => {
    const day = (d: number, h = 0, min = 0) => new Date(2026, 2, d, h, min).getTime()
    beforeEach(() =>
      seed(
        { name: 'mar1-morning', created: day(1, 9), startS: 0, endS: 30 },
        { name: 'mar1-evening', created: day(1, 23, 59), startS: 0, endS: 600 },
        { name: 'mar2', created: day(2, 0, 0), startS: 10, endS: 7210 },
        { name: 'running', created: NOW - 120_000, startS: 0, endS: null },
        { name: 'queued', created: NOW - 1000, startS: null },
      ),
    )

    it('a date names its whole local day, a time its minute', () => {
      expect(matching('created = 2026-03-01')).toEqual(['mar1-evening', 'mar1-morning'])
      expect(matching('created != 2026-03-01')).toEqual(['mar2', 'queued', 'running'])
      expect(matching('created < 2026-03-02')).toEqual(['mar1-evening', 'mar1-morning'])
      expect(matching('created <= 2026-03-01')).toEqual(['mar1-evening', 'mar1-morning'])
      expect(matching('created > 2026-03-01 and created < 2026-03-03')).toEqual(['mar2'])
      expect(matching('created >= 2026-03-02 and created <= 2026-03-02')).toEqual(['mar2'])
      expect(matching(`created = '2026-03-01 23:59'`)).toEqual(['mar1-evening'])
      expect(matching(`created = ${day(1, 9)}`)).toEqual(['mar1-morning'])
    })

    it('started: a run that has not started matches no comparison on it', () => {
      expect(matching('started >= 2026-03-01')).toEqual(['mar1-evening', 'mar1-morning', 'mar2', 'running'])
      expect(matching('not started >= 2026-03-01')).toEqual(['queued'])
    })

    it('duration runs to the end, or to now while a run goes on; units read as seconds', () => {
      expect(matching('duration < 1m')).toEqual(['mar1-morning'])
      expect(matching('duration = 600')).toEqual(['mar1-evening'])
      expect(matching('duration >= 2h')).toEqual(['mar2'])
      // Started two minutes before NOW and still going.
      expect(matching('duration > 110 and duration < 130')).toEqual(['running'])
      expect(matching('not duration >= 0')).toEqual(['queued'])
    })
  })

  describe('queries that try to be SQL stay values', () => {
    beforeEach(() =>
      seed({ name: 'one', params: { x: '1', "it's": 'quoted key' } }, { name: 'two', params: { x: '2' } }, { name: 'literal', params: { x: "1' OR 1=1 --" } }),
    )

    it("params.x = '1'' OR 1=1 --' matches only the run whose x is that very text", () => {
      expect(matching(`params.x = '1'' OR 1=1 --'`)).toEqual(['literal'])
      expect(matching(`params.x = "1' OR 1=1 --"`)).toEqual(['literal'])
      expect(matching(`params.x = '1\\' OR 1=1 --'`)).toEqual(['literal'])
      expect(matching(`params.x = '2'' OR ''1''=''1'`)).toEqual([])
    })

    it('keys with quotes, brackets and semicolons are keys, not SQL', () => {
      expect(matching("params.`it's` = 'quoted key'")).toEqual(['one'])
      expect(matching("params.`x' OR 1=1 --` = 1")).toEqual([])
      expect(matching('params.`x = 1) OR (1` = 1')).toEqual([])
      expect(matching("params.`x'; DROP TABLE runs; --` = 1")).toEqual([])
      expect(matching("name = 'a''; DROP TABLE runs; --'")).toEqual([])
      expect(matching("tags = 'x'') OR 1=1 --'")).toEqual([])
      expect(matching("name ~ '%'")).toEqual([])
      expect(matching("name ~ '_'")).toEqual([])
      expect(store.db.prepare(`SELECT count(*) FROM runs`).pluck().get()).toBe(3)
    })

    it('writes no key or value into the SQL text: every one is a bound argument', () => {
      const query = "params.`k'ey` = 'v''al; --' or tags = 'x\"y' or name ~ 'n%m' or metrics.`m)` > 1e-3 or status = killed"
      const { sql, args } = compileRunQuery(parseRunQuery(query)!, NOW)
      for (const piece of ["k'ey", "v'al", 'x"y', 'n%m', 'm)', 'KILLED', '0.001']) expect(sql).not.toContain(piece)
      expect(args).toEqual(expect.arrayContaining(["k'ey", "v'al; --", 'x"y', 'n%m', 'm)', 0.001, 'KILLED']))
      expect(sql.split('?').length - 1).toBe(args.length)
    })
  })
})

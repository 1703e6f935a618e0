// queryRuns, runColumns and compareRuns through the router and the typed API, on a real store: differences flagged,
// best runs by direction, ids resolved like getRun, non-finite metrics kept out of the reply, query errors as replies.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BenchsideError, RunComparison, RunPage, type MetricPoint } from '../../../src-main/contract/index.ts'
import { createCore, type Core } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { tempHome } from '../../helpers/temp-home.ts'

describe('run comparison and the run table through the API', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core

  const run = (name: string, params: Record<string, string>, metrics: [key: string, step: number, value: number][], tags: string[] = []): string => {
    const runs = core.store.runs
    const { uuid } = runs.create({ name, kind: 'train', status: 'FINISHED' })
    for (const [key, value] of Object.entries(params)) runs.logParam(uuid, key, value)
    runs.logMetrics(
      uuid,
      metrics.map(([key, step, value]): MetricPoint => ({ key, step, value, time: 0 })),
    )
    for (const tag of tags) runs.addTag(uuid, tag)
    return uuid
  }
  const rejected = async (call: Promise<unknown>): Promise<BenchsideError> =>
    call.then(
      () => expect.unreachable('the call should have been refused'),
      (error: unknown) => {
        expect(error).toBeInstanceOf(BenchsideError)
        return error as BenchsideError
      },
    )

  beforeEach(() => {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
  })
  afterEach(() => {
    core.close()
    home.remove()
  })

  describe('compareRuns', () => {
    let a: string
    let b: string
    let c: string
    beforeEach(() => {
      a = run(
        'a',
        { lr: '0.1', arch: 'lenet5', seed: '1' },
        [
          ['val_loss', 0, 2.0],
          ['val_loss', 1, 0.5],
          ['val_loss', 2, 0.8],
          ['test_accuracy', 0, 0.91],
          ['epochs', 0, 10],
        ],
        ['baseline', 'fmnist'],
      )
      b = run(
        'b',
        { lr: '0.01', arch: 'lenet5' },
        [
          ['val_loss', 0, 1.5],
          ['val_loss', 1, 0.6],
          ['test_accuracy', 0, 0.95],
          ['epochs', 0, 10],
          ['only_b', 0, 3],
        ],
        ['fmnist'],
      )
      c = run(
        'c',
        { lr: '0.01', arch: 'lenet5', seed: '1' },
        [
          ['val_loss', 0, 0.5],
          ['test_accuracy', 0, 0.95],
          ['epochs', 0, 10],
        ],
        ['fmnist'],
      )
      core.store.runs.writeArtifact(a, 'model/model.json', '{"same":true}')
      core.store.runs.writeArtifact(b, 'model/model.json', '{"same":true}')
      core.store.runs.writeArtifact(c, 'model/model.json', '{"same":false}')
      core.store.runs.writeArtifact(a, 'result.json', '{}')
      core.store.runs.writeArtifact(b, 'result.json', '{}')
      core.store.runs.writeArtifact(c, 'result.json', '{}')
      core.store.runs.writeArtifact(a, 'notes.txt', 'only a')
    })

    it('lines up params, flagging keys whose values differ or are missing somewhere', async () => {
      const result = await core.api.compareRuns({ runs: [a, b, c] })
      expect(result.runs.map((r) => r.name)).toEqual(['a', 'b', 'c'])
      expect(result.params).toEqual([
        { key: 'arch', values: ['lenet5', 'lenet5', 'lenet5'], differs: false },
        { key: 'lr', values: ['0.1', '0.01', '0.01'], differs: true },
        { key: 'seed', values: ['1', null, '1'], differs: true },
      ])
    })

    it('gives per-run statistics and marks the best run by the direction of each metric', async () => {
      const result = await core.api.compareRuns({ runs: [a, b, c] })
      const metric = (key: string) => result.metrics.find((m) => m.key === key)!
      expect(metric('val_loss')).toEqual({
        key: 'val_loss',
        direction: 'min',
        stats: [
          { last: 0.8, min: 0.5, max: 2.0, best: 0.5, points: 3, lastStep: 2 },
          { last: 0.6, min: 0.6, max: 1.5, best: 0.6, points: 2, lastStep: 1 },
          { last: 0.5, min: 0.5, max: 0.5, best: 0.5, points: 1, lastStep: 0 },
        ],
        differs: true,
        // a and c share the best value 0.5: a tie, so no best run.
        bestRun: null,
      })
      expect(metric('test_accuracy')).toMatchObject({ direction: 'max', differs: true, bestRun: null })
      expect(metric('epochs')).toMatchObject({ differs: false, bestRun: null })
      expect(metric('only_b')).toMatchObject({ stats: [null, expect.objectContaining({ last: 3 }), null], differs: true, bestRun: 1 })

      const pair = await core.api.compareRuns({ runs: [a, b] })
      expect(pair.metrics.find((m) => m.key === 'val_loss')).toMatchObject({ bestRun: 0 })
      expect(pair.metrics.find((m) => m.key === 'test_accuracy')).toMatchObject({ bestRun: 1 })
      expect(pair.metrics.map((m) => m.key)).toEqual(['epochs', 'only_b', 'test_accuracy', 'val_loss'])
    })

    it('lines up tags and artifacts: identical only when every run has the file with the same hash', async () => {
      const result = await core.api.compareRuns({ runs: [a, b, c] })
      expect(result.tags).toEqual([
        { tag: 'baseline', present: [true, false, false], differs: true },
        { tag: 'fmnist', present: [true, true, true], differs: false },
      ])
      const artifact = (path: string) => result.artifacts.find((x) => x.path === path)!
      expect(artifact('result.json').identical).toBe(true)
      expect(artifact('model/model.json').identical).toBe(false)
      expect(artifact('model/model.json').files[0]).toEqual(artifact('model/model.json').files[1])
      expect(artifact('model/model.json').files[2]!.sha256).not.toBe(artifact('model/model.json').files[0]!.sha256)
      expect(artifact('notes.txt')).toMatchObject({ identical: false, files: [expect.objectContaining({ size: 6 }), null, null] })
      expect((await core.api.compareRuns({ runs: [a, b] })).artifacts.find((x) => x.path === 'model/model.json')!.identical).toBe(true)
    })

    it('resolves ids as getRun does: prefixes, and a CONFLICT for one that fits several runs', async () => {
      const byPrefix = await core.api.compareRuns({ runs: [a.slice(0, 8), b.slice(0, 6).toUpperCase()] })
      expect(byPrefix.runs.map((r) => r.uuid)).toEqual([a, b])
      // Two runs whose ids share a prefix, as runs of a large history can.
      const insert = core.store.db.prepare(
        `INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at) SELECT ?, experiment_id, 'twin', kind, status, created_at FROM runs WHERE uuid = ?`,
      )
      insert.run('abcd0000-0000-4000-8000-000000000000', a)
      insert.run('abcd1111-0000-4000-8000-000000000000', a)
      const ambiguous = await rejected(core.api.compareRuns({ runs: ['abcd', c] }))
      expect(ambiguous.code).toBe('CONFLICT')
      expect(ambiguous.message).toMatch(/matches several runs/)
      expect((await rejected(core.api.compareRuns({ runs: ['ffffffff', c] }))).code).toBe('NOT_FOUND')
    })

    it('refuses one run, the same run twice, and more than 20', async () => {
      expect(await core.router.handle('compareRuns', { runs: [a] })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGS', field: 'runs', message: expect.stringMatching(/at least two runs/) },
      })
      const twice = await rejected(core.api.compareRuns({ runs: [a, a.slice(0, 8)] }))
      expect(twice).toMatchObject({ code: 'INVALID_ARGS', field: 'runs' })
      expect(twice.message).toMatch(/listed twice/)
      expect(await core.router.handle('compareRuns', { runs: Array.from({ length: 21 }, () => a) })).toMatchObject({ ok: false, error: { field: 'runs' } })
    })

    it('keeps ±Infinity out of the statistics, so the reply stays valid JSON and fits the contract', async () => {
      const d = run('diverged', {}, [
        ['val_loss', 0, 1.2],
        ['val_loss', 1, Infinity],
        ['val_loss', 2, 0.9],
        ['val_loss', 3, -Infinity],
        ['nan_like', 0, Infinity],
      ])
      const reply = await core.router.handle('compareRuns', { runs: [a, d] })
      expect(reply.ok).toBe(true)
      const result = RunComparison.parse(JSON.parse(JSON.stringify(reply.ok ? reply.result : null)))
      expect(result.metrics.find((m) => m.key === 'val_loss')!.stats[1]).toEqual({ last: 0.9, min: 0.9, max: 1.2, best: 0.9, points: 2, lastStep: 2 })
      // A metric with only non-finite points has no statistics at all.
      expect(result.metrics.find((m) => m.key === 'nan_like')).toBeUndefined()
    })
  })

  describe('queryRuns and runColumns', () => {
    it('answers a page that fits the contract, with the chosen columns', async () => {
      run('slow', { noise_sigma: '0.8' }, [['test_accuracy', 0, 0.85]])
      run('fast', { noise_sigma: '0.2' }, [['test_accuracy', 0, 0.99]])
      run('inf', { noise_sigma: '0.9' }, [['test_accuracy', 0, Infinity]])
      const reply = await core.router.handle('queryRuns', {
        where: 'params.noise_sigma > 0.5',
        sort: { by: { kind: 'metric', key: 'test_accuracy' } },
        columns: [{ kind: 'metric', key: 'test_accuracy' }],
      })
      expect(reply.ok).toBe(true)
      const page = RunPage.parse(JSON.parse(JSON.stringify(reply.ok ? reply.result : null)))
      expect(page.total).toBe(2)
      expect(page.rows.map((r) => [r.name, r.values[0]])).toEqual([
        ['slow', 0.85],
        ['inf', null],
      ])
      expect(await core.api.runColumns({})).toEqual({ params: ['noise_sigma'], metrics: ['test_accuracy'] })
    })

    it('refuses a query that does not parse as INVALID_ARGS on where, with the column', async () => {
      const reply = await core.router.handle('queryRuns', { where: 'params.noise_sigma > ' })
      expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'where' } })
      expect(reply.ok ? '' : reply.error.message).toMatch(
        /^At column 22: expected a value after '>', found the end of the query\.\n {2}params\.noise_sigma > \n {23}\^$/,
      )
      expect(await core.router.handle('queryRuns', { limit: 1001 })).toMatchObject({ ok: false, error: { field: 'limit' } })
      expect(await core.router.handle('queryRuns', { sort: { by: { kind: 'metric', key: '' } } })).toMatchObject({ ok: false, error: { field: 'sort.by.key' } })
    })
  })
})

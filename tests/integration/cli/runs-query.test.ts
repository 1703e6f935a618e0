// `benchside runs list --where / --sort / --columns` and `benchside runs compare` as a user runs them: a real Node
// process over a real data folder.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCsv } from '../../../src-main/contract/index.ts'
import { Store } from '../../../src-main/store/store.ts'
import { tempHome } from '../../helpers/temp-home.ts'

const bin = fileURLToPath(new URL('../../../bin/benchside.js', import.meta.url))
const run = promisify(execFile)

describe('benchside runs list --where and runs compare', () => {
  let home: ReturnType<typeof tempHome>
  const ids: Record<string, string> = {}
  const cli = (...args: string[]) => run('node', [bin, ...args], { env: { ...process.env, BENCHSIDE_HOME: home.dir } })
  const cliFails = (...args: string[]) =>
    cli(...args).then(
      () => expect.unreachable('the command should have failed'),
      (error: { code: number; stderr: string }) => error,
    )

  beforeAll(() => {
    home = tempHome()
    const store = new Store({ dataDir: home.dir })
    const seed = (name: string, created: number, params: Record<string, string>, metrics: Record<string, number[]>, tags: string[] = []) => {
      const { uuid } = store.runs.create({ name, kind: 'train', status: 'FINISHED' })
      for (const [key, value] of Object.entries(params)) store.runs.logParam(uuid, key, value)
      for (const [key, values] of Object.entries(metrics))
        store.runs.logMetrics(
          uuid,
          values.map((value, step) => ({ key, value, step, time: 0 })),
        )
      for (const tag of tags) store.runs.addTag(uuid, tag)
      store.db.prepare(`UPDATE runs SET created_at = ? WHERE uuid = ?`).run(created, uuid)
      ids[name] = uuid
    }
    seed('quiet', 1000, { noise_sigma: '0.1', arch: 'lenet5' }, { test_accuracy: [0.5, 0.97], val_loss: [1, 0.2] }, ['baseline'])
    seed('noisy', 2000, { noise_sigma: '0.7', arch: 'lenet5' }, { test_accuracy: [0.4, 0.85], val_loss: [1.2, 0.4] })
    seed('noisier', 3000, { noise_sigma: '0.9', arch: 'resnet8' }, { test_accuracy: [0.3, 0.6], val_loss: [1.5, 0.9] })
    store.runs.writeArtifact(ids.quiet!, 'model/model.json', '{"w":1}')
    store.runs.writeArtifact(ids.noisy!, 'model/model.json', '{"w":1}')
    store.close()
  })
  afterAll(() => home.remove())

  it('filters with --where, sorts with --sort and shows the sort key and --columns in the table', async () => {
    const { stdout } = await cli(
      'runs',
      'list',
      '--where',
      'params.noise_sigma > 0.5',
      '--sort',
      'metrics.test_accuracy:asc',
      '--columns',
      'params.noise_sigma',
    )
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^ID\s+NAME\s+KIND\s+STATUS\s+STARTED\s+params\.noise_sigma\s+metrics\.test_accuracy\s+TAGS$/)
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['noisier', 'noisy'])
    expect(lines[1]).toMatch(/\s0\.9\s+0\.6\s*$/)
  })

  it('prints the rows as JSON, pages up to --limit, and says how many more match', async () => {
    const all = await cli('runs', 'list', '--sort', 'params.noise_sigma:desc', '--json')
    const rows = JSON.parse(all.stdout) as { name: string; values: unknown[]; durationS: number | null }[]
    expect(rows.map((r) => r.name)).toEqual(['noisier', 'noisy', 'quiet'])
    expect(rows[0]!.values).toEqual(['0.9'])
    const limited = await cli('runs', 'list', '--where', 'metrics.val_loss < 1', '--limit', '1')
    expect(limited.stdout.trim().split('\n')).toHaveLength(2)
    expect(limited.stderr).toContain('Showing 1 of 3 runs')
  })

  it('refuses a query that does not parse with the column and a caret, exit 2', async () => {
    const bad = await cliFails('runs', 'list', '--where', 'params.noise_sigma >')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe(
      "benchside: At column 21: expected a value after '>', found the end of the query.\n  params.noise_sigma >\n                      ^\n",
    )
    const sort = await cliFails('runs', 'list', '--sort', 'tags')
    expect(sort.code).toBe(2)
    expect(sort.stderr).toMatch(/^benchside: Invalid argument 'sort': runs cannot be sorted by tags/)
  })

  it('compares runs as tables, one column per run, marking differences, the best run and identical artifacts', async () => {
    const { stdout } = await cli('runs', 'compare', ids.quiet!.slice(0, 8), ids.noisy!.slice(0, 8))
    const [q, n] = [ids.quiet!.slice(0, 8), ids.noisy!.slice(0, 8)]
    expect(stdout).toMatch(new RegExp(`^ {3}KEY\\s+${q}\\s+${n}$`, 'm'))
    expect(stdout).toMatch(/^≠ {2}noise_sigma\s+0\.1\s+0\.7$/m)
    expect(stdout).toMatch(/^ {3}arch\s+lenet5\s+lenet5$/m)
    expect(stdout).toMatch(/^≠ {2}test_accuracy ↑\s+last\s+0\.97\s+0\.85$/m)
    expect(stdout).toMatch(/^\s+best\s+0\.97 \*\s+0\.85$/m)
    expect(stdout).toMatch(/^≠ {2}val_loss ↓\s+last\s+0\.2\s+0\.4$/m)
    expect(stdout).toMatch(/^≠ {2}baseline\s+yes\s+no$/m)
    expect(stdout).toMatch(/^ {3}model\/model\.json\s+([0-9a-f]{12})\s+\1\s+identical$/m)
  })

  it('--diff-only --csv writes only the differing rows as CSV, one column per run', async () => {
    const { stdout } = await cli('runs', 'compare', ids.quiet!, ids.noisy!, ids.noisier!, '--diff-only', '--csv')
    const rows = parseCsv(stdout)
    expect(rows[0]).toEqual(['section', 'key', 'field', 'direction', 'differs', ids.quiet, ids.noisy, ids.noisier])
    expect(rows.filter((r) => r[0] === 'param').map((r) => r[1])).toEqual(['arch', 'noise_sigma'])
    expect(rows.every((r, i) => i === 0 || r[4] === 'true')).toBe(true)
    expect(rows).toContainEqual(['metric', 'test_accuracy', 'is_best', 'max', 'true', 'true', 'false', 'false'])
    expect(rows).toContainEqual(['metric', 'val_loss', 'min', 'min', 'true', '0.2', '0.4', '0.9'])
    // The model differs: the third run has none.
    expect(
      rows
        .find((r) => r[0] === 'artifact' && r[2] === 'sha256')!
        .slice(5, 8)
        .map((h) => h.length),
    ).toEqual([64, 64, 0])
  })

  it('prints the comparison as JSON, and refuses a single run with exit 2', async () => {
    const json = JSON.parse((await cli('runs', 'compare', ids.quiet!, ids.noisy!, '--json')).stdout)
    expect(json.runs.map((r: { name: string }) => r.name)).toEqual(['quiet', 'noisy'])
    expect(json.metrics.find((m: { key: string }) => m.key === 'val_loss').bestRun).toBe(0)
    const one = await cliFails('runs', 'compare', ids.quiet!)
    expect(one.code).toBe(2)
    expect(one.stderr).toMatch(/^benchside: Pick at least two runs to compare\./)
  })
})

// The run table at 10,000 runs: seeds a store with runs × 100 metric rows (+ params noise_sigma, bits, lr,
// architecture, a few tags), then times in this process (median and min of 10) queryRuns' first page, sorts by a metric
// and by a param, a `where` filter, runColumns and compareRuns of 3 runs, through the API as the app calls it; and the
// whole `benchside runs list --where … --limit 50` command as a process (the built bundle), next to that query's own
// time. Prints one JSON object; progress on stderr. The goal: every in-process query under 100 ms.
// Run: npx electron-vite build && node --import tsx bench/run-table.ts [--runs 10000] [--rounds 10]
//      node --import tsx bench/run-table.ts --seed-only <dir>    leaves a seeded data folder (for the renderer's benchmark)
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ArgsOf, BenchsideApi, MethodName } from '../src-main/contract/index.ts'
import { createCore } from '../src-main/core.ts'
import { nodeJobLauncher } from '../src-main/jobs/node-launcher.ts'
import { Store } from '../src-main/store/store.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'bin', 'benchside.js')
const args = process.argv.slice(2)
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const RUNS = Number(option('--runs') ?? 10_000)
const ROUNDS = Number(option('--rounds') ?? 10)
const METRIC_ROWS_PER_RUN = 100
const GOAL_MS = 100
const WHERE = 'params.noise_sigma > 0.5 and metrics.test_accuracy > 0.8'

const log = (message: string): void => void process.stderr.write(`${message}\n`)

/** A small seeded generator (mulberry32): the same store every time. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Fills a fresh data folder: one transaction of prepared inserts, a few seconds for a million metric rows. Straight
 * SQL on purpose: going through RunsRepository would time the seeding, not the queries. Each run logs 100 metric rows:
 * train_loss, val_loss and val_accuracy over 30 epochs, lr over 3 steps, and 7 single values; 1 in 20 runs has no
 * noise_sigma (missing keys), 1 in 100 is deleted.
 */
function seed(dataDir: string, runs: number): { runs: number; metricRows: number; paramRows: number } {
  const store = new Store({ dataDir })
  const db = store.db
  const rand = random(14)
  const experiments = ['Default', 'noise-study', 'quantization']
  const kinds = ['train', 'evaluate', 'sweep', 'robustness-study']
  const statuses = ['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'KILLED', 'INTERRUPTED']
  const architectures = ['lenet5', 'mlp-tfc', 'ds-cnn', 'resnet8']
  const insertExperiment = db.prepare(`INSERT INTO experiments (name, created_at) VALUES (?, ?)`)
  const insertRun = db.prepare(
    `INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at, start_time, end_time, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertParam = db.prepare(`INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)`)
  const insertMetric = db.prepare(`INSERT INTO metrics (run_uuid, key, value, step, time) VALUES (?, ?, ?, ?, ?)`)
  const insertTag = db.prepare(`INSERT INTO tags (run_uuid, tag) VALUES (?, ?)`)
  let metricRows = 0
  let paramRows = 0
  const start = Date.now() - runs * 60_000
  db.transaction(() => {
    const experimentIds = experiments.map((name) => Number(insertExperiment.run(name, start).lastInsertRowid))
    for (let i = 0; i < runs; i++) {
      const uuid = randomUUID()
      const created = start + i * 60_000
      const began = created + 1000
      insertRun.run(
        uuid,
        experimentIds[i % experimentIds.length],
        `run ${i}`,
        kinds[i % kinds.length],
        statuses[i % statuses.length],
        created,
        began,
        began + Math.round(5_000 + rand() * 600_000),
        i % 100 === 99 ? created + 1 : null,
      )
      const params: [string, string][] = [
        ['bits', String([2, 4, 8, 32][i % 4])],
        ['lr', String([1e-3, 3e-3, 1e-2][i % 3])],
        ['architecture', architectures[i % architectures.length]!],
      ]
      if (i % 20 !== 0) params.push(['noise_sigma', String(Math.round(rand() * 1000) / 1000)])
      for (const [key, value] of params) insertParam.run(uuid, key, value)
      paramRows += params.length
      const quality = rand()
      const time = began
      for (let epoch = 0; epoch < 30; epoch++) {
        insertMetric.run(uuid, 'train_loss', 2 / (epoch + 1) + quality * 0.1, epoch, time + epoch)
        insertMetric.run(uuid, 'val_loss', 2.2 / (epoch + 1) + quality * 0.1, epoch, time + epoch)
        insertMetric.run(uuid, 'val_accuracy', 0.5 + 0.45 * quality * (1 - 1 / (epoch + 1)), epoch, time + epoch)
      }
      for (let step = 0; step < 3; step++) insertMetric.run(uuid, 'lr', 1e-2 / 10 ** step, step, time + step)
      const finals: [string, number][] = [
        ['test_accuracy', 0.5 + 0.48 * quality],
        ['test_loss', 0.1 + (1 - quality)],
        ['ece', 0.02 + 0.1 * (1 - quality)],
        ['midpoint_sigma', rand()],
        ['latency_ms', 1 + rand() * 10],
        ['energy_uj', 10 + rand() * 100],
        ['weights', 10_000 + (i % 7) * 1000],
      ]
      for (const [key, value] of finals) insertMetric.run(uuid, key, value, 0, time + 30)
      metricRows += METRIC_ROWS_PER_RUN
      if (i % 10 === 0) insertTag.run(uuid, 'baseline')
      if (i % 4 === 1) insertTag.run(uuid, 'qat')
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  store.close()
  return { runs, metricRows, paramRows }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const round2 = (ms: number): number => Math.round(ms * 100) / 100

interface Timing {
  case: string
  medianMs: number
  minMs: number
  underGoal: boolean
  /** What the answer held, so a query that matched nothing is not reported as fast. */
  answer: string
}

async function timeCall<M extends MethodName>(
  api: BenchsideApi,
  name: string,
  method: M,
  args: ArgsOf<M>,
  describe: (result: never) => string,
): Promise<Timing> {
  const call = api[method] as (a: ArgsOf<M>) => Promise<unknown>
  const answer = describe((await call(args)) as never) // warm: statements prepared, pages in the cache
  const samples: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now()
    await call(args)
    samples.push(performance.now() - start)
  }
  const medianMs = round2(median(samples))
  log(`${name}: ${medianMs} ms (${answer})`)
  return { case: name, medianMs, minMs: round2(Math.min(...samples)), underGoal: medianMs < GOAL_MS, answer }
}

function timeCli(home: string): { command: string; medianMs: number; minMs: number; rows: number } | { skipped: string } {
  if (!existsSync(join(root, 'out', 'main', 'cli.js'))) return { skipped: 'out/main/cli.js is not built (npx electron-vite build)' }
  const argv = [bin, 'runs', 'list', '--where', WHERE, '--limit', '50']
  const env = { ...process.env, BENCHSIDE_HOME: home, BENCHSIDE_CLI: 'bundle' }
  const once = (): { ms: number; rows: number } => {
    const start = performance.now()
    const result = spawnSync(process.execPath, argv, { env, encoding: 'utf8' })
    const ms = performance.now() - start
    if (result.status !== 0) throw new Error(`benchside runs list --where failed: exit ${result.status}, ${result.stderr.trim()}`)
    return { ms, rows: result.stdout.trim().split('\n').length - 1 }
  }
  const first = once()
  const samples: number[] = []
  for (let round = 0; round < ROUNDS; round++) samples.push(once().ms)
  return {
    command: `benchside runs list --where '${WHERE}' --limit 50`,
    medianMs: Math.round(median(samples)),
    minMs: Math.round(Math.min(...samples)),
    rows: first.rows,
  }
}

const seedOnly = option('--seed-only')
if (args.includes('--seed-only')) {
  if (!seedOnly) throw new Error('Give the folder: --seed-only <dir>')
  if (existsSync(seedOnly) && readdirSync(seedOnly).length > 0) throw new Error(`${seedOnly} is not empty; give a new or empty folder.`)
  const start = performance.now()
  const seeded = seed(seedOnly, RUNS)
  console.log(JSON.stringify({ dataDir: seedOnly, ...seeded, seedMs: Math.round(performance.now() - start) }, null, 2))
} else {
  const home = mkdtempSync(join(tmpdir(), 'benchside-run-table-'))
  try {
    const seedStart = performance.now()
    const seeded = seed(home, RUNS)
    const seedMs = Math.round(performance.now() - seedStart)
    log(`seeded ${seeded.runs} runs, ${seeded.metricRows} metric rows in ${seedMs} ms`)

    const loadBefore = loadavg()
    const core = createCore({ dataDir: home, host: 'cli', launch: nodeJobLauncher })
    const api = core.api
    const pageOf = (page: { rows: unknown[]; total: number }): string => `${page.rows.length} rows of ${page.total}`
    const columns = [
      { kind: 'metric', key: 'test_accuracy' },
      { kind: 'param', key: 'noise_sigma' },
      { kind: 'param', key: 'architecture' },
    ] as const
    const sample = (await api.queryRuns({ limit: 3, offset: 500 })).rows.map((r) => r.uuid)
    const inProcess = [
      await timeCall(api, 'queryRuns first page (200 rows, newest first)', 'queryRuns', {}, pageOf),
      await timeCall(
        api,
        'queryRuns sorted by metrics.test_accuracy',
        'queryRuns',
        { sort: { by: columns[0], direction: 'desc' }, columns: [...columns] },
        pageOf,
      ),
      await timeCall(api, 'queryRuns sorted by params.noise_sigma', 'queryRuns', { sort: { by: columns[1], direction: 'asc' }, columns: [...columns] }, pageOf),
      await timeCall(api, `queryRuns where ${WHERE}`, 'queryRuns', { where: WHERE, columns: [...columns] }, pageOf),
      await timeCall(
        api,
        'runColumns',
        'runColumns',
        {},
        (c: { params: string[]; metrics: string[] }) => `${c.params.length} params, ${c.metrics.length} metrics`,
      ),
      await timeCall(
        api,
        'compareRuns of 3 runs',
        'compareRuns',
        { runs: sample },
        (c: { metrics: unknown[]; params: unknown[] }) => `${c.params.length} params, ${c.metrics.length} metrics`,
      ),
    ]
    const cliQuery = await timeCall(api, `queryRuns where ${WHERE}, limit 50 (the CLI's query)`, 'queryRuns', { where: WHERE, limit: 50 }, pageOf)
    core.close()
    const cli = timeCli(home)
    const loadAfter = loadavg()

    console.log(
      JSON.stringify(
        {
          node: process.versions.node,
          cores: availableParallelism(),
          loadAverage: { before: loadBefore.map((v) => Number(v.toFixed(2))), after: loadAfter.map((v) => Number(v.toFixed(2))) },
          seeded: { ...seeded, seedMs },
          rounds: ROUNDS,
          goalMs: GOAL_MS,
          allUnderGoal: inProcess.every((t) => t.underGoal),
          inProcess,
          cli: { ...cli, queryMedianMs: cliQuery.medianMs, queryMinMs: cliQuery.minMs },
        },
        null,
        2,
      ),
    )
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

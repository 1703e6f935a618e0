// How long the benchside command takes to start: `--help`, and `runs list` on a data folder holding a few runs, through
// the built bundle and through tsx, next to an empty `node -e ''` for scale. Prints one JSON object; progress on stderr.
// Run: node --import tsx bench/cli-start.ts [--runs N]   (build first, e.g. npm run build, for the bundled figures)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Store } from '../src-main/store/store.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'bin', 'benchside.js')
const args = process.argv.slice(2)
const runs = Number(args.includes('--runs') ? args[args.indexOf('--runs') + 1] : 9) || 9
const GOAL_MS = 300

const log = (message: string): void => void process.stderr.write(`${message}\n`)

// Asked once, before any timing: getconf is a child too, and its CPU time must not land in a measurement.
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100

/** CPU time of this process's finished children, in ms (Linux); it shows the work apart from waiting for the CPU. */
function childrenCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond
  } catch {
    return null
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

interface Case {
  path: 'bundle' | 'source' | 'node-empty'
  command: string
  argv: string[]
  env: NodeJS.ProcessEnv
  /** What the output must contain, so a command that fails fast is not timed as a fast start. */
  expect: string
}

interface Timing {
  path: Case['path']
  command: string
  medianMs: number
  minMs: number
  cpuMedianMs: number | null
  cpuMinMs: number | null
}

function timeOnce(c: Case): { wallMs: number; cpuMs: number | null } {
  const cpuBefore = childrenCpuMs()
  const start = performance.now()
  const result = spawnSync(process.execPath, c.argv, { env: c.env, encoding: 'utf8' })
  const wallMs = performance.now() - start
  const cpuAfter = childrenCpuMs()
  if (result.status !== 0 || !result.stdout.includes(c.expect)) {
    throw new Error(`'${c.command}' (${c.path}) did not work: exit ${result.status}, ${result.stderr.trim().split('\n')[0] ?? ''}`)
  }
  return { wallMs, cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore }
}

const home = mkdtempSync(join(tmpdir(), 'benchside-cli-start-'))
try {
  const store = new Store({ dataDir: home })
  for (let i = 0; i < 5; i++) {
    const run = store.runs.create({ name: `bench run ${i}`, kind: 'selftest' })
    store.runs.logMetrics(
      run.uuid,
      Array.from({ length: 20 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step, time: Date.now() })),
    )
    store.runs.finish(run.uuid, 'FINISHED')
  }
  store.close()

  const bundleBuilt = existsSync(join(root, 'out', 'main', 'cli.js'))
  const env = (path: 'bundle' | 'source'): NodeJS.ProcessEnv => ({ ...process.env, BENCHSIDE_HOME: home, BENCHSIDE_CLI: path })
  const cases: Case[] = [{ path: 'node-empty', command: "node -e ''", argv: ['-e', "process.stdout.write('ok')"], env: process.env, expect: 'ok' }]
  for (const path of bundleBuilt ? (['bundle', 'source'] as const) : (['source'] as const)) {
    cases.push({ path, command: 'benchside --help', argv: [bin, '--help'], env: env(path), expect: 'Usage: benchside' })
    cases.push({ path, command: 'benchside runs list', argv: [bin, 'runs', 'list'], env: env(path), expect: 'bench run 4' })
  }
  if (!bundleBuilt) log('out/main/cli.js is not built: timing the tsx path only.')

  const loadBefore = loadavg()
  // One untimed run each fills the disk cache and tsx's transpile cache; the rounds then interleave the cases, so a
  // burst of load from elsewhere on the machine hits all of them alike.
  for (const c of cases) timeOnce(c)
  const samples = new Map(cases.map((c) => [c, [] as { wallMs: number; cpuMs: number | null }[]]))
  for (let round = 0; round < runs; round++) {
    for (const c of cases) samples.get(c)!.push(timeOnce(c))
    log(`round ${round + 1} of ${runs}`)
  }
  const loadAfter = loadavg()

  const results: Timing[] = cases.map((c) => {
    const s = samples.get(c)!
    const cpu = s.map((x) => x.cpuMs).filter((x): x is number => x !== null)
    return {
      path: c.path,
      command: c.command,
      medianMs: Math.round(median(s.map((x) => x.wallMs))),
      minMs: Math.round(Math.min(...s.map((x) => x.wallMs))),
      cpuMedianMs: cpu.length ? Math.round(median(cpu)) : null,
      cpuMinMs: cpu.length ? Math.round(Math.min(...cpu)) : null,
    }
  })
  const bundled = results.filter((r) => r.path === 'bundle')
  console.log(
    JSON.stringify(
      {
        node: process.versions.node,
        cores: availableParallelism(),
        loadAverage: { before: loadBefore.map((v) => Number(v.toFixed(2))), after: loadAfter.map((v) => Number(v.toFixed(2))) },
        runs,
        goalMs: GOAL_MS,
        bundledUnderGoal: bundled.length ? bundled.every((r) => r.medianMs < GOAL_MS) : null,
        results,
      },
      null,
      2,
    ),
  )
} finally {
  rmSync(home, { recursive: true, force: true })
}

// The benchside command as a user runs it: a real Node process over a real data folder.
import { execFile, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StudyParams, TrainParams } from '../../src-main/contract/index.ts'
import { Store } from '../../src-main/store/store.ts'
import { tempHome, waitFor } from '../helpers/temp-home.ts'

const bin = fileURLToPath(new URL('../../bin/benchside.js', import.meta.url))
const bundle = fileURLToPath(new URL('../../out/main/cli.js', import.meta.url))
const run = promisify(execFile)

describe('benchside CLI', () => {
  let home: ReturnType<typeof tempHome>
  const cli = (...args: string[]) => run('node', [bin, ...args], { env: { ...process.env, BENCHSIDE_HOME: home.dir } })
  const cliFails = (...args: string[]) =>
    cli(...args).then(
      () => expect.unreachable('the command should have failed'),
      (error: { code: number; stderr: string }) => error,
    )

  beforeEach(() => (home = tempHome()))
  afterEach(() => home.remove())

  it('lists no runs as [] in a fresh data folder', async () => {
    const { stdout } = await cli('runs', 'list', '--json')
    expect(JSON.parse(stdout)).toEqual([])
  })

  it('runs a selftest job, then tags, notes, shows, exports and deletes its run', async () => {
    const started = JSON.parse((await cli('jobs', 'run', 'selftest', '-p', 'seconds=0.3', '-p', 'metricsPerSecond=20', '--name', 'cli smoke', '--json')).stdout)
    expect(started).toMatchObject({ name: 'cli smoke', kind: 'selftest', status: 'FINISHED' })
    const id = started.uuid.slice(0, 8)

    await cli('runs', 'tag', id, 'baseline', 'fmnist')
    await cli('runs', 'note', id, 'looks fine')
    const shown = JSON.parse((await cli('runs', 'show', id, '--json')).stdout)
    expect(shown.tags).toEqual(['baseline', 'fmnist'])
    expect(shown.notes.map((n: { text: string }) => n.text)).toEqual(['looks fine'])
    expect(shown.metrics.filter((m: { key: string }) => m.key === 'loss')).toHaveLength(6)

    const filtered = JSON.parse((await cli('runs', 'list', '--tag', 'fmnist', '--json')).stdout)
    expect(filtered.map((r: { uuid: string }) => r.uuid)).toEqual([started.uuid])

    const exported = JSON.parse((await cli('runs', 'export', id)).stdout)
    expect(exported).toMatchObject({ format: 'benchside-runs', version: 1 })
    expect(exported.runs[0].uuid).toBe(started.uuid)
    const csv = (await cli('runs', 'export', id, '--csv')).stdout.trim().split('\n')
    expect(csv[0]).toBe('run,key,step,value,time')
    expect(csv).toHaveLength(1 + 12)

    await cli('runs', 'delete', id)
    expect(JSON.parse((await cli('runs', 'list', '--json')).stdout)).toEqual([])
    expect(JSON.parse((await cli('runs', 'list', '--deleted', '--json')).stdout)[0].deleted).toBe(true)
  })

  it('explains bad input in one sentence with exit code 2', async () => {
    const bad = await cliFails('jobs', 'run', 'selftest', '-p', 'seconds=soon')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe("benchside: -p seconds must be a number, got 'soon'.\n")
    // An id, architecture or dataset that does not exist is bad input too (the README promises 2).
    const unknown = await cliFails('runs', 'show', 'ffffffff')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^benchside: No run has the id 'ffffffff'\./)
  })

  it('exits 2 with one plain sentence for every kind of bad input, naming the option as typed', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--epochs', '1.5'], /^benchside: --epochs must be a whole number, got 1\.5\.$/],
      [['train', '--epochs', '0'], /^benchside: --epochs must be at least 1, got 0\.$/],
      [['train', '--batch-size', 'many'], /^benchside: --batch-size must be a number, got 'many'\.$/],
      [['train', '--lr', '0'], /^benchside: --lr must be more than 0, got 0\.$/],
      [['train', '--optimizer', 'rmsprop'], /^benchside: --optimizer must be adam or sgd, got 'rmsprop'\.$/],
      [['train', '--model', 'no-such-net'], /^benchside: Unknown architecture 'no-such-net'\. Known: .*mlp-tfc/],
      [['train', '--dataset', 'no-such-data'], /^benchside: No dataset 'no-such-data'\. Known: /],
      [['eval', 'ffffffff'], /^benchside: No run has the id 'ffffffff'\./],
      [['runs', 'list', '--limit', '0'], /^benchside: --limit must be at least 1, got 0\.$/],
      [['train', '--arch', 'lenet5'], /^benchside: Unknown option '--arch'\. .*--help/],
      [['eval'], /^benchside: Missing required argument 'model'\. .*--help/],
      [['no-such-command'], /^benchside: Unknown command 'no-such-command'\./],
      [['ops', 'latency', 'export', '--out', 'latency.txt'], /^benchside: --out must end in \.csv or \.json .*got 'latency\.txt'\.$/],
    ]
    for (const [args, message] of cases) {
      const failure = await cliFails(...args)
      expect({ args, code: failure.code }).toEqual({ args, code: 2 })
      const lines = failure.stderr.trim().split('\n')
      expect({ args, lines: lines.length }).toEqual({ args, lines: 1 })
      expect(lines[0]).toMatch(message)
      expect(lines[0]).not.toMatch(/expected \w+, received|Invalid input|Too small|Too big/)
    }
    expect(JSON.parse((await cli('runs', 'list', '--json')).stdout)).toEqual([])
  }, 120_000)

  it('writes the latency table in the format its file name asks for', async () => {
    const out = join(home.dir, 'latency.json')
    await cli('ops', 'latency', 'export', '--out', out)
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual([])
    const csv = join(home.dir, 'latency.csv')
    await cli('ops', 'latency', 'export', '--out', csv)
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toMatch(/,/)
  })

  it("shows the contract's defaults in the help, read from the schema rather than restated", async () => {
    const defaults = TrainParams.parse({})
    const help = (await cli('train', '--help')).stdout.replace(/\s+/g, ' ')
    expect(help).toContain(`--epochs <n> epochs (default: ${defaults.epochs})`)
    expect(help).toContain(`--batch-size <n> batch size (default: ${defaults.batchSize})`)
    expect(help).toContain(`(default: ${defaults.dataset})`)
    expect(help).toContain(`(default: ${defaults.architecture})`)
    const grid = StudyParams.parse({}).evaluation
    expect((await cli('study', 'robustness', '--help')).stdout.replace(/\s+/g, ' ')).toContain(`(default: ${grid.from}:${grid.to}:${grid.count})`)
  })

  it('rejects a fractional epoch count with exit code 2 and one sentence, before any run exists', async () => {
    const bad = await cliFails('train', '--epochs', '1.5')
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toBe('benchside: --epochs must be a whole number, got 1.5.\n')
    const kind = await cliFails('jobs', 'run', 'no-such-kind')
    expect(kind.code).toBe(2)
    expect(kind.stderr).toMatch(/^benchside: <kind> must be one of selftest, .* got 'no-such-kind'\.$/m)
    expect(JSON.parse((await cli('runs', 'list', '--json')).stdout)).toEqual([])
  })

  it.skipIf(!existsSync(bundle))('runs from the built bundle in plain Node: a command, and a job whose process starts from out/main', async () => {
    const direct = await run('node', [bundle, 'runs', 'list', '--json'], { env: { ...process.env, BENCHSIDE_HOME: home.dir } })
    expect(JSON.parse(direct.stdout)).toEqual([])
    const env = { ...process.env, BENCHSIDE_HOME: home.dir, BENCHSIDE_CLI: 'bundle' }
    const job = JSON.parse((await run('node', [bin, 'jobs', 'run', 'selftest', '-p', 'seconds=0.2', '--json'], { env })).stdout)
    expect(job).toMatchObject({ kind: 'selftest', status: 'FINISHED' })
    const version = (await run('node', [bin, '--version'], { env })).stdout.trim()
    expect(version).not.toBe('0.0.0')
  })

  it('picks the bundle only while it is newer than every source file', async () => {
    // A copy of bin/benchside.js over a stand-in tree: the bundle and the source each print which one ran.
    const tree = join(home.dir, 'tree')
    mkdirSync(join(tree, 'bin'), { recursive: true })
    mkdirSync(join(tree, 'out', 'main'), { recursive: true })
    mkdirSync(join(tree, 'src-main', 'cli'), { recursive: true })
    copyFileSync(bin, join(tree, 'bin', 'benchside.js'))
    symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(tree, 'node_modules'))
    writeFileSync(join(tree, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(join(tree, 'out', 'main', 'cli.js'), "console.log('bundle')\n")
    writeFileSync(join(tree, 'src-main', 'cli.ts'), "const which: string = 'source'\nconsole.log(which)\n")
    writeFileSync(join(tree, 'src-main', 'cli', 'runs.ts'), 'export {}\n')
    const which = async (env: Record<string, string> = {}) =>
      (await run('node', [join(tree, 'bin', 'benchside.js')], { env: { ...process.env, BENCHSIDE_CLI: '', ...env } })).stdout.trim()
    const hourAgo = new Date(Date.now() - 3_600_000)
    for (const file of ['src-main/cli.ts', 'src-main/cli/runs.ts']) utimesSync(join(tree, file), hourAgo, hourAgo)
    expect(await which()).toBe('bundle')
    expect(await which({ BENCHSIDE_CLI: 'source' })).toBe('source')
    const now = new Date(Date.now() + 1000)
    utimesSync(join(tree, 'src-main', 'cli', 'runs.ts'), now, now)
    expect(await which()).toBe('source')
    expect(await which({ BENCHSIDE_CLI: 'bundle' })).toBe('bundle')
  })

  it('after kill -9 of the CLI mid-job, the next start marks the run INTERRUPTED and keeps its metrics', async () => {
    const child = spawn('node', [bin, 'jobs', 'run', 'selftest', '-p', 'seconds=30', '-p', 'metricsPerSecond=50'], {
      env: { ...process.env, BENCHSIDE_HOME: home.dir },
      stdio: 'ignore',
    })
    const store = new Store({ dataDir: home.dir })
    try {
      await waitFor(() => (store.db.prepare(`SELECT count(*) AS n FROM metrics`).get() as { n: number }).n >= 20, 20_000, 'metrics from the CLI job')
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      const [runAfter] = JSON.parse((await cli('runs', 'list', '--json')).stdout)
      expect(runAfter.status).toBe('INTERRUPTED')
      const kept = (store.db.prepare(`SELECT count(*) AS n FROM metrics WHERE run_uuid = ?`).get(runAfter.uuid) as { n: number }).n
      expect(kept).toBeGreaterThanOrEqual(20)
      expect(store.integrityCheck()).toBe('ok')
    } finally {
      child.kill('SIGKILL')
      store.close()
    }
  })
})

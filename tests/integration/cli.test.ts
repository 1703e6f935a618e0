// The benchside command as a user runs it: a real Node process over a real data folder.
import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Store } from '../../src-main/store/store.ts'
import { tempHome, waitFor } from '../helpers/temp-home.ts'

const bin = fileURLToPath(new URL('../../bin/benchside.js', import.meta.url))
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
    expect(bad.stderr).toMatch(/^benchside: Invalid argument 'params.seconds'/)
    const unknown = await cliFails('runs', 'show', 'ffffffff')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/No run has the id 'ffffffff'/)
  })

  it('after kill -9 of the CLI mid-job, the next start marks the run INTERRUPTED and keeps its metrics', async () => {
    const child = spawn('node', [bin, 'jobs', 'run', 'selftest', '-p', 'seconds=30', '-p', 'metricsPerSecond=50'], {
      env: { ...process.env, BENCHSIDE_HOME: home.dir },
      stdio: 'ignore',
    })
    const store = new Store({ dataDir: home.dir })
    try {
      await waitFor(
        () => (store.db.prepare(`SELECT count(*) AS n FROM metrics`).get() as { n: number }).n >= 20,
        20_000,
        'metrics from the CLI job',
      )
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

import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BenchsideError } from '../../../src-main/contract/index.ts'
import { isProcessAlive } from '../../../src-main/core.ts'
import { writeFileAtomic } from '../../../src-main/store/files.ts'
import { Store } from '../../../src-main/store/store.ts'
import { tempHome } from '../../helpers/temp-home.ts'

/** The BenchsideError a call throws, so tests can assert its code and field. */
function thrown(call: () => unknown): BenchsideError {
  try {
    call()
  } catch (error) {
    expect(error).toBeInstanceOf(BenchsideError)
    return error as BenchsideError
  }
  throw new Error('expected the call to throw a BenchsideError, but it returned')
}

/** Every file below a folder, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

/** A pid that certainly belonged to a process on this host and has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  const pid = Number(child.stdout)
  expect(Number.isInteger(pid) && pid > 0).toBe(true)
  expect(isProcessAlive(pid)).toBe(false)
  return pid
}

describe('RunsRepository', () => {
  let home: ReturnType<typeof tempHome>
  let store: Store
  beforeEach(() => {
    home = tempHome()
    store = new Store({ dataDir: home.dir })
  })
  afterEach(() => {
    store.close()
    home.remove()
  })

  describe('create, summary and list', () => {
    it('creates a SCHEDULED run in the Default experiment with a fresh uuid', () => {
      const before = Date.now()
      const run = store.runs.create({ name: 'first', kind: 'selftest' })
      expect(run.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(run).toMatchObject({
        name: 'first',
        kind: 'selftest',
        experiment: 'Default',
        status: 'SCHEDULED',
        startTime: null,
        endTime: null,
        error: null,
        tags: [],
        deleted: false,
      })
      expect(run.createdAt).toBeGreaterThanOrEqual(before)
      expect(run.createdAt).toBeLessThanOrEqual(Date.now())
      expect(store.runs.summary(run.uuid)).toEqual(run)
      expect(store.runs.create({ name: 'second', kind: 'selftest' }).uuid).not.toBe(run.uuid)
    })

    it('keeps the experiment, status and job spec it was given; one experiment row per name', () => {
      const spec = { kind: 'selftest', params: { seconds: 2, nested: { a: [1, 2] } } }
      const a = store.runs.create({ name: 'a', kind: 'selftest', experiment: 'Noise', status: 'RUNNING', jobSpec: spec })
      const b = store.runs.create({ name: 'b', kind: 'selftest', experiment: 'Noise' })
      expect(a).toMatchObject({ experiment: 'Noise', status: 'RUNNING' })
      expect(b.experiment).toBe('Noise')
      expect(store.runs.jobSpec(a.uuid)).toEqual(spec)
      expect(store.runs.jobSpec(b.uuid)).toBeNull()
      const experiments = store.db.prepare(`SELECT name FROM experiments ORDER BY name`).all() as { name: string }[]
      expect(experiments.map((e) => e.name)).toEqual(['Noise'])
    })

    it('summary of an unknown run is NOT_FOUND', () => {
      expect(thrown(() => store.runs.summary('00000000-0000-4000-8000-000000000000')).code).toBe('NOT_FOUND')
      expect(thrown(() => store.runs.detail('nope')).code).toBe('NOT_FOUND')
    })

    it('lists newest first, also when runs share a millisecond, and honours limit', () => {
      const names = Array.from({ length: 12 }, (_, i) => `run ${i}`)
      for (const name of names) store.runs.create({ name, kind: 'selftest' })
      expect(store.runs.list().map((r) => r.name)).toEqual([...names].reverse())
      expect(store.runs.list({ limit: 3 }).map((r) => r.name)).toEqual(['run 11', 'run 10', 'run 9'])
    })

    it('orders by creation time before insertion order', () => {
      const older = store.runs.create({ name: 'older', kind: 'selftest' })
      const newer = store.runs.create({ name: 'newer', kind: 'selftest' })
      // Push the first-inserted run into the future: creation time, not rowid, decides.
      store.db.prepare(`UPDATE runs SET created_at = created_at + 60000 WHERE uuid = ?`).run(older.uuid)
      expect(store.runs.list().map((r) => r.uuid)).toEqual([older.uuid, newer.uuid])
    })

    it('lists an empty store as an empty array', () => {
      expect(store.runs.list()).toEqual([])
    })
  })

  describe('filters', () => {
    let train: string, sweep: string, failed: string, percent: string, underscore: string
    beforeEach(() => {
      train = store.runs.create({ name: 'train resnet', kind: 'train' }).uuid
      sweep = store.runs.create({ name: 'noise sweep', kind: 'sweep' }).uuid
      failed = store.runs.create({ name: 'broken sweep', kind: 'sweep' }).uuid
      percent = store.runs.create({ name: 'prune 50% of weights', kind: 'prune' }).uuid
      underscore = store.runs.create({ name: 'layer_3 noise', kind: 'prune' }).uuid
      store.runs.finish(failed, 'FAILED', 'boom')
      store.runs.finish(train, 'FINISHED')
      store.runs.addTag(train, 'baseline')
      store.runs.addTag(sweep, 'paper-fig3')
      store.runs.addNote(sweep, 'Looks robust up to sigma 0.2')
      store.runs.addTag(percent, 'baseline-extra')
    })
    const uuids = (filter: Parameters<Store['runs']['list']>[0]) =>
      store.runs
        .list(filter)
        .map((r) => r.uuid)
        .sort()

    it('filters by kind', () => {
      expect(uuids({ kind: 'sweep' })).toEqual([sweep, failed].sort())
      expect(uuids({ kind: 'nothing' })).toEqual([])
    })

    it('filters by status', () => {
      expect(uuids({ status: 'FAILED' })).toEqual([failed])
      expect(uuids({ status: 'SCHEDULED' })).toEqual([sweep, percent, underscore].sort())
    })

    it('filters by exact tag, not by tag prefix', () => {
      expect(uuids({ tag: 'baseline' })).toEqual([train])
      expect(uuids({ tag: 'paper-fig3' })).toEqual([sweep])
      expect(uuids({ tag: 'base' })).toEqual([])
    })

    it('combines filters with AND', () => {
      expect(uuids({ kind: 'sweep', status: 'FAILED' })).toEqual([failed])
      expect(uuids({ kind: 'train', status: 'FAILED' })).toEqual([])
      expect(uuids({ kind: 'sweep', text: 'noise' })).toEqual([sweep])
    })

    it('finds free text in the name, the tags and the notes, case-insensitively', () => {
      expect(uuids({ text: 'RESNET' })).toEqual([train])
      expect(uuids({ text: 'fig3' })).toEqual([sweep])
      expect(uuids({ text: 'sigma 0.2' })).toEqual([sweep])
      expect(uuids({ text: 'sweep' })).toEqual([sweep, failed].sort())
      expect(uuids({ text: 'no such words' })).toEqual([])
    })

    it('finds a run by part of its uuid as free text', () => {
      expect(uuids({ text: underscore.slice(9, 23) })).toEqual([underscore])
    })

    it('matches % and _ literally, not as LIKE wildcards', () => {
      expect(uuids({ text: '%' })).toEqual([percent])
      expect(uuids({ text: '50%' })).toEqual([percent])
      expect(uuids({ text: '_' })).toEqual([underscore])
      expect(uuids({ text: 'layer_3' })).toEqual([underscore])
      // As wildcards these would match 'layer_3 noise', 'train resnet' and 'prune 50% of weights'.
      expect(uuids({ text: 'laye__3' })).toEqual([])
      expect(uuids({ text: 'train_resnet' })).toEqual([])
      expect(uuids({ text: 'prune%weights' })).toEqual([])
    })

    it('matches a backslash literally too', () => {
      const slashed = store.runs.create({ name: 'C:\\runs\\a', kind: 'x' }).uuid
      expect(uuids({ text: '\\runs\\' })).toEqual([slashed])
      expect(uuids({ text: '\\%' })).toEqual([])
    })
  })

  describe('soft delete', () => {
    it('hides deleted runs unless includeDeleted, and restore brings them back', () => {
      const keep = store.runs.create({ name: 'keep', kind: 'k' }).uuid
      const gone = store.runs.create({ name: 'gone', kind: 'k' }).uuid
      store.runs.addTag(gone, 'mine')

      const deleted = store.runs.setDeleted(gone, true)
      expect(deleted.deleted).toBe(true)
      expect(store.runs.list().map((r) => r.uuid)).toEqual([keep])
      expect(store.runs.list({ tag: 'mine' })).toEqual([])
      expect(store.runs.list({ text: 'gone' })).toEqual([])
      const all = store.runs.list({ includeDeleted: true })
      expect(all.map((r) => [r.uuid, r.deleted])).toEqual([
        [gone, true],
        [keep, false],
      ])
      // Soft: the run and its data are still there.
      expect(store.runs.detail(gone).tags).toEqual(['mine'])

      const restored = store.runs.setDeleted(gone, false)
      expect(restored.deleted).toBe(false)
      expect(store.runs.list().map((r) => r.uuid)).toEqual([gone, keep])
      expect(store.runs.list({ tag: 'mine' }).map((r) => r.uuid)).toEqual([gone])
    })
  })

  describe('params', () => {
    it('are written once: the same value again is fine, a different value is a CONFLICT', () => {
      const run = store.runs.create({ name: 'p', kind: 'k' }).uuid
      store.runs.logParam(run, 'lr', '0.001')
      store.runs.logParam(run, 'lr', '0.001')
      store.runs.logParam(run, 'epochs', '10')
      const error = thrown(() => store.runs.logParam(run, 'lr', '0.01'))
      expect(error.code).toBe('CONFLICT')
      expect(error.message).toContain('lr')
      expect(store.runs.detail(run).params).toEqual({ epochs: '10', lr: '0.001' })
    })

    it('belong to one run: another run may use the same key with another value', () => {
      const a = store.runs.create({ name: 'a', kind: 'k' }).uuid
      const b = store.runs.create({ name: 'b', kind: 'k' }).uuid
      store.runs.logParam(a, 'seed', '1')
      store.runs.logParam(b, 'seed', '2')
      expect(store.runs.detail(a).params).toEqual({ seed: '1' })
      expect(store.runs.detail(b).params).toEqual({ seed: '2' })
    })

    it('cannot be written for a run that does not exist', () => {
      expect(() => store.runs.logParam('no-such-run', 'k', 'v')).toThrow()
      expect(store.db.prepare(`SELECT count(*) AS n FROM params`).get()).toEqual({ n: 0 })
    })
  })

  describe('metrics', () => {
    it('round-trip with value, step and time, ordered by key then step', () => {
      const run = store.runs.create({ name: 'm', kind: 'k' }).uuid
      store.runs.logMetrics(run, [
        { key: 'loss', value: 0.9, step: 0, time: 1000 },
        { key: 'loss', value: 0.5, step: 2, time: 3000 },
        { key: 'acc', value: 0.125, step: 0, time: 1001 },
      ])
      store.runs.logMetrics(run, [{ key: 'loss', value: 0.7, step: 1, time: 2000 }])
      expect(store.runs.detail(run).metrics).toEqual([
        { key: 'acc', value: 0.125, step: 0, time: 1001 },
        { key: 'loss', value: 0.9, step: 0, time: 1000 },
        { key: 'loss', value: 0.7, step: 1, time: 2000 },
        { key: 'loss', value: 0.5, step: 2, time: 3000 },
      ])
    })

    it('keep full double precision and negative values', () => {
      const run = store.runs.create({ name: 'm', kind: 'k' }).uuid
      store.runs.logMetrics(run, [
        { key: 'x', value: Math.PI, step: 0, time: 1 },
        { key: 'x', value: -1e-300, step: 1, time: 2 },
      ])
      expect(store.runs.detail(run).metrics.map((m) => m.value)).toEqual([Math.PI, -1e-300])
    })

    it('lastSteps gives the highest step per key, whatever the insertion order', () => {
      const run = store.runs.create({ name: 'm', kind: 'k' }).uuid
      const other = store.runs.create({ name: 'o', kind: 'k' }).uuid
      expect(store.runs.lastSteps(run)).toEqual({})
      store.runs.logMetrics(run, [
        { key: 'loss', value: 1, step: 7, time: 1 },
        { key: 'loss', value: 1, step: 3, time: 2 },
        { key: 'acc', value: 1, step: 0, time: 3 },
      ])
      store.runs.logMetrics(other, [{ key: 'loss', value: 1, step: 99, time: 1 }])
      expect(store.runs.lastSteps(run)).toEqual({ loss: 7, acc: 0 })
    })

    it('a batch for an unknown run is refused whole', () => {
      expect(() =>
        store.runs.logMetrics('no-such-run', [
          { key: 'a', value: 1, step: 0, time: 1 },
          { key: 'a', value: 2, step: 1, time: 2 },
        ]),
      ).toThrow()
      expect(store.db.prepare(`SELECT count(*) AS n FROM metrics`).get()).toEqual({ n: 0 })
    })
  })

  describe('tags and notes', () => {
    it('tags are a sorted set; removing one leaves the others', () => {
      const run = store.runs.create({ name: 't', kind: 'k' }).uuid
      store.runs.addTag(run, 'zeta')
      store.runs.addTag(run, 'alpha')
      expect(store.runs.addTag(run, 'alpha').tags).toEqual(['alpha', 'zeta'])
      expect(store.runs.removeTag(run, 'zeta').tags).toEqual(['alpha'])
      expect(store.runs.removeTag(run, 'not-there').tags).toEqual(['alpha'])
    })

    it('notes come back in the order they were written, with ids and times', () => {
      const run = store.runs.create({ name: 'n', kind: 'k' }).uuid
      const first = store.runs.addNote(run, 'first')
      const second = store.runs.addNote(run, 'second, with "quotes" and ünïcode')
      expect(second.id).toBeGreaterThan(first.id)
      expect(store.runs.detail(run).notes).toEqual([first, second])
    })
  })

  describe('resolve', () => {
    function insertRun(uuid: string): void {
      const experiment = store.db.prepare(`INSERT INTO experiments (name, created_at) VALUES (?, 0)`).run(`exp ${uuid}`)
      store.db
        .prepare(`INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at) VALUES (?, ?, 'manual', 'k', 'FINISHED', 0)`)
        .run(uuid, experiment.lastInsertRowid)
    }

    it('accepts the full uuid, also in upper case or with spaces around it', () => {
      const run = store.runs.create({ name: 'r', kind: 'k' }).uuid
      expect(store.runs.resolve(run)).toBe(run)
      expect(store.runs.resolve(` ${run.toUpperCase()} `)).toBe(run)
    })

    it('accepts an unambiguous prefix of at least 4 characters', () => {
      insertRun('abcd1234-0000-4000-8000-000000000001')
      insertRun('ef012345-0000-4000-8000-000000000002')
      expect(store.runs.resolve('abcd')).toBe('abcd1234-0000-4000-8000-000000000001')
      expect(store.runs.resolve('EF012')).toBe('ef012345-0000-4000-8000-000000000002')
      expect(store.runs.resolve('abcd1234-0000')).toBe('abcd1234-0000-4000-8000-000000000001')
    })

    it('refuses prefixes shorter than 4 characters as NOT_FOUND', () => {
      insertRun('abcd1234-0000-4000-8000-000000000001')
      expect(thrown(() => store.runs.resolve('abc')).code).toBe('NOT_FOUND')
      expect(thrown(() => store.runs.resolve('')).code).toBe('NOT_FOUND')
    })

    it('gives NOT_FOUND for an unknown id, with a message that says where ids are', () => {
      insertRun('abcd1234-0000-4000-8000-000000000001')
      const error = thrown(() => store.runs.resolve('ffff'))
      expect(error.code).toBe('NOT_FOUND')
      expect(error.message).toContain("'ffff'")
    })

    it('gives CONFLICT for a prefix several runs share, and resolves once it is long enough', () => {
      insertRun('abcd1234-0000-4000-8000-000000000001')
      insertRun('abcd5678-0000-4000-8000-000000000002')
      const error = thrown(() => store.runs.resolve('abcd'))
      expect(error.code).toBe('CONFLICT')
      expect(error.message).toContain('abcd')
      expect(store.runs.resolve('abcd5')).toBe('abcd5678-0000-4000-8000-000000000002')
    })

    it('does not treat LIKE wildcards in the id as wildcards', () => {
      insertRun('abcd1234-0000-4000-8000-000000000001')
      for (const id of ['%', '____', 'ab%', 'abc_', '%%%%']) {
        expect(thrown(() => store.runs.resolve(id)).code).toBe('NOT_FOUND')
      }
    })
  })

  describe('status changes', () => {
    it('markActive RUNNING sets the start time once; finish sets end time and error', () => {
      const run = store.runs.create({ name: 's', kind: 'k' }).uuid
      const owner = { pid: process.pid, host: hostname() }
      store.runs.markActive(run, 'SCHEDULED', owner)
      expect(store.runs.summary(run)).toMatchObject({ status: 'SCHEDULED', startTime: null })
      store.runs.markActive(run, 'RUNNING', owner)
      const started = store.runs.summary(run)
      expect(started.status).toBe('RUNNING')
      expect(started.startTime).toEqual(expect.any(Number))
      store.db.prepare(`UPDATE runs SET start_time = 12345 WHERE uuid = ?`).run(run)
      store.runs.markActive(run, 'RUNNING', owner)
      expect(store.runs.summary(run).startTime).toBe(12345)

      const failed = store.runs.finish(run, 'FAILED', 'it broke')
      expect(failed).toMatchObject({ status: 'FAILED', error: 'it broke' })
      expect(failed.endTime).toEqual(expect.any(Number))
    })

    it.each([['FINISHED'], ['FAILED'], ['KILLED'], ['INTERRUPTED']] as const)('never overrides an already final status %s', (first) => {
      const run = store.runs.create({ name: 'f', kind: 'k', status: 'RUNNING' }).uuid
      const settled = store.runs.finish(run, first, first === 'FINISHED' ? null : 'first reason')
      const late = store.runs.finish(run, first === 'FAILED' ? 'FINISHED' : 'FAILED', 'late crash report')
      expect(late.status).toBe(first)
      expect(late.error).toBe(settled.error)
      expect(late.endTime).toBe(settled.endTime)
    })

    it('KILLED stays KILLED when a late FAILED arrives', () => {
      const run = store.runs.create({ name: 'k', kind: 'k', status: 'RUNNING' }).uuid
      store.runs.finish(run, 'KILLED')
      const after = store.runs.finish(run, 'FAILED', 'The job process was killed by SIGTERM')
      expect(after).toMatchObject({ status: 'KILLED', error: null })
    })

    it('markActive re-opens a final run for resume, clearing end time and error', () => {
      const run = store.runs.create({ name: 'r', kind: 'k', status: 'RUNNING' }).uuid
      store.runs.finish(run, 'INTERRUPTED', 'stopped')
      store.runs.markActive(run, 'RUNNING', { pid: process.pid, host: hostname() })
      expect(store.runs.summary(run)).toMatchObject({ status: 'RUNNING', endTime: null, error: null })
      expect(store.runs.finish(run, 'FINISHED').status).toBe('FINISHED')
    })
  })

  describe('interruptOrphans', () => {
    it('marks RUNNING and SCHEDULED runs of dead owners on this host INTERRUPTED, and leaves the rest alone', () => {
      const host = hostname()
      const dead = deadPid()
      const deadRunning = store.runs.create({ name: 'dead running', kind: 'k', status: 'RUNNING', owner: { pid: dead, host } }).uuid
      const deadScheduled = store.runs.create({ name: 'dead queued', kind: 'k', status: 'SCHEDULED', owner: { pid: dead, host } }).uuid
      const live = store.runs.create({ name: 'live', kind: 'k', status: 'RUNNING', owner: { pid: process.pid, host } }).uuid
      const otherHost = store.runs.create({ name: 'remote', kind: 'k', status: 'RUNNING', owner: { pid: dead, host: `${host}-elsewhere` } }).uuid
      const finished = store.runs.create({ name: 'done', kind: 'k', status: 'RUNNING', owner: { pid: dead, host } }).uuid
      store.runs.finish(finished, 'FINISHED')
      store.db.prepare(`UPDATE runs SET owner_pid = ? WHERE uuid = ?`).run(dead, finished)

      const interrupted = store.runs.interruptOrphans(host, isProcessAlive)

      expect(interrupted.sort()).toEqual([deadRunning, deadScheduled].sort())
      for (const uuid of [deadRunning, deadScheduled]) {
        const run = store.runs.summary(uuid)
        expect(run.status).toBe('INTERRUPTED')
        expect(run.endTime).toEqual(expect.any(Number))
        expect(run.error).toMatch(/stopped before it finished/)
      }
      expect(store.runs.summary(live).status).toBe('RUNNING')
      expect(store.runs.summary(otherHost).status).toBe('RUNNING')
      expect(store.runs.summary(finished)).toMatchObject({ status: 'FINISHED', error: null })
      // A second pass finds nothing more to do.
      expect(store.runs.interruptOrphans(host, isProcessAlive)).toEqual([])
    })

    it('asks about owners on this host only', () => {
      const host = hostname()
      store.runs.create({ name: 'here', kind: 'k', status: 'RUNNING', owner: { pid: 4242, host } })
      store.runs.create({ name: 'there', kind: 'k', status: 'RUNNING', owner: { pid: 4343, host: 'another-machine' } })
      const asked: number[] = []
      store.runs.interruptOrphans(host, (pid) => (asked.push(pid), true))
      expect(asked).toEqual([4242])
    })

    it('keeps an error a run already had', () => {
      const host = hostname()
      const run = store.runs.create({ name: 'e', kind: 'k', status: 'RUNNING', owner: { pid: deadPid(), host } }).uuid
      store.db.prepare(`UPDATE runs SET error = 'earlier problem' WHERE uuid = ?`).run(run)
      store.runs.interruptOrphans(host, isProcessAlive)
      expect(store.runs.summary(run)).toMatchObject({ status: 'INTERRUPTED', error: 'earlier problem' })
    })
  })

  describe('artifacts', () => {
    const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex')

    it('writes the file under the run folder and records its sha256 and size', () => {
      const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256)
      const artifact = store.runs.writeArtifact(run, 'weights/layer1.bin', bytes)
      const file = join(store.artifactsDir, run, 'weights', 'layer1.bin')
      expect(readFileSync(file)).toEqual(Buffer.from(bytes))
      expect(artifact).toMatchObject({ path: 'weights/layer1.bin', sha256: sha256(bytes), size: 70_000 })
      expect(store.runs.artifactPath(run, 'weights/layer1.bin')).toBe(file)
      expect(store.runs.detail(run).artifacts).toEqual([artifact])
    })

    it('counts the size of a string in UTF-8 bytes', () => {
      const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
      const text = 'σ = 0.1 → ok ✓'
      const artifact = store.runs.writeArtifact(run, 'note.txt', text)
      expect(artifact.size).toBe(Buffer.byteLength(text, 'utf8'))
      expect(artifact.size).toBeGreaterThan(text.length)
      expect(artifact.sha256).toBe(sha256(Buffer.from(text, 'utf8')))
      expect(readFileSync(join(store.artifactsDir, run, 'note.txt'), 'utf8')).toBe(text)
    })

    it('rewriting a path replaces the file and the record', () => {
      const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
      store.runs.writeArtifact(run, 'summary.json', '{"v":1}')
      const second = store.runs.writeArtifact(run, './summary.json', '{"v":22}')
      expect(second.path).toBe('summary.json')
      expect(store.runs.detail(run).artifacts).toEqual([second])
      expect(second).toMatchObject({ sha256: sha256('{"v":22}'), size: 8 })
      expect(readFileSync(join(store.artifactsDir, run, 'summary.json'), 'utf8')).toBe('{"v":22}')
    })

    it('leaves no temp files behind', () => {
      const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
      store.runs.writeArtifact(run, 'a.txt', 'a')
      store.runs.writeArtifact(run, 'deep/b.txt', 'b')
      store.runs.writeArtifact(run, 'a.txt', 'a again')
      expect(filesUnder(join(store.artifactsDir, run))).toEqual(['a.txt', join('deep', 'b.txt')])
    })

    it.each([['/etc/passwd'], ['../escape.txt'], ['..'], ['a/../../escape.txt'], ['deep/../../../escape.txt'], ['']])(
      'refuses the path %j with INVALID_ARGS on field path, writing nothing',
      (path) => {
        const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
        const before = filesUnder(home.dir)
        const error = thrown(() => store.runs.writeArtifact(run, path, 'should not be written'))
        expect(error.code).toBe('INVALID_ARGS')
        expect(error.field).toBe('path')
        expect(filesUnder(home.dir)).toEqual(before)
        expect(existsSync(join(store.artifactsDir, 'escape.txt'))).toBe(false)
        expect(store.runs.detail(run).artifacts).toEqual([])
      },
    )

    it('allows names that merely start with two dots', () => {
      const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
      expect(store.runs.writeArtifact(run, '..hidden', 'x').path).toBe('..hidden')
      expect(existsSync(join(store.artifactsDir, run, '..hidden'))).toBe(true)
    })

    // Bug: artifactPath() only refuses paths that leave the run folder, not paths that ARE the run folder.
    it("refuses '.' and 'a/..', which name the run folder itself rather than a file in it", () => {
      const run = store.runs.create({ name: 'a', kind: 'k' }).uuid
      for (const path of ['.', 'a/..']) {
        expect(thrown(() => store.runs.writeArtifact(run, path, 'x')).code).toBe('INVALID_ARGS')
      }
      // A later, ordinary artifact must still be writable.
      expect(store.runs.writeArtifact(run, 'ok.txt', 'ok').size).toBe(2)
    })
  })
})

describe('writeFileAtomic', () => {
  let home: ReturnType<typeof tempHome>
  beforeEach(() => {
    home = tempHome()
  })
  afterEach(() => home.remove())

  it('creates missing folders, returns sha256 and size, and leaves only the target file', () => {
    const file = join(home.dir, 'a', 'b', 'c.bin')
    const data = new Uint8Array([0, 1, 2, 255])
    expect(writeFileAtomic(file, data)).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      size: 4,
    })
    expect(readFileSync(file)).toEqual(Buffer.from(data))
    expect(filesUnder(home.dir)).toEqual([join('a', 'b', 'c.bin')])
  })

  it('hashes the empty file correctly', () => {
    const file = join(home.dir, 'empty')
    expect(writeFileAtomic(file, '')).toEqual({
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      size: 0,
    })
    expect(statSync(file).size).toBe(0)
  })
})

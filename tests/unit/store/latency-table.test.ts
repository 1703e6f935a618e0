import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Store } from '../../../src-main/store/store.ts'
import { migrations } from '../../../src-main/store/migrations.ts'
import { shapeKey } from '../../../src-main/hardware/roofline-study.ts'
import { parseCsv } from '../../../src-main/contract/index.ts'
import { IMPORT_CHUNK_ROWS, LATENCY_CSV_COLUMNS, type LatencyKey } from '../../../src-main/store/latency-table.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'

/** A latency CSV of `rows` valid rows for board 'b', one shape each. */
function latencyCsv(rows: number): string {
  const lines = [LATENCY_CSV_COLUMNS.join(',')]
  for (let i = 0; i < rows; i++) lines.push(`b,v,gemm_f32,"k=${i},m=1,n=1",f32,,0.002,0.001,0.003,7,"{""ok"":true,""samples"":[0.001,0.002,0.003,0.004]}"`)
  return lines.join('\n')
}

const key = (over: Partial<LatencyKey> = {}): LatencyKey => ({
  boardId: 'local',
  agentVersion: 'abc123',
  operation: 'gemm_f32',
  shape: shapeKey({ n: 256, m: 256, k: 256 }),
  dtype: 'f32',
  layout: '',
  ...over,
})

describe('latency table', () => {
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

  it('is created by migration 2 of the store', () => {
    expect(migrations[1]).toContain('CREATE TABLE latency')
    const tables = () => (store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name)
    expect(tables()).toContain('latency')
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length)
    store.close()
    // Reopening an already migrated file changes nothing.
    store = new Store({ dataDir: home.dir })
    expect(tables()).toContain('latency')
  })

  it('stores and reads back one entry per full key', () => {
    expect(shapeKey({ n: 256, m: 128, k: 64 })).toBe('k=64,m=128,n=256')
    expect(store.latency.get(key())).toBeNull()
    store.latency.put(key(), { medianS: 0.002, minS: 0.0019, maxS: 0.0025, raw: { ok: true, gops_per_s: 16 } }, 1234)
    store.latency.put(key({ dtype: 'a2w2', layout: 'planes_outer' }), { medianS: 0.001, minS: 0.001, maxS: 0.001, raw: null })
    expect(store.latency.get(key())).toEqual({ ...key(), medianS: 0.002, minS: 0.0019, maxS: 0.0025, measuredAt: 1234, raw: { ok: true, gops_per_s: 16 } })
    expect(store.latency.get(key({ layout: 'words_outer', dtype: 'a2w2' }))).toBeNull()
    expect(store.latency.list()).toHaveLength(2)
  })

  it('refuses an empty key field or times out of order', () => {
    expect(() => store.latency.put(key({ boardId: ' ' }), { medianS: 1, minS: 1, maxS: 1, raw: null })).toThrow('The latency key needs a non-empty boardId.')
    expect(() => store.latency.put(key(), { medianS: 1, minS: 2, maxS: 3, raw: null })).toThrow(/min <= median <= max/)
    expect(() => store.latency.put(key(), { medianS: Number.NaN, minS: 0, maxS: 1, raw: null })).toThrow(/medianS must be a finite number/)
    expect(store.latency.list()).toEqual([])
  })

  it('measures once: later calls and concurrent calls reuse the stored entry unless forced', async () => {
    let calls = 0
    const measure = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 10))
      return { medianS: calls, minS: calls, maxS: calls, raw: { call: calls } }
    }
    const [a, b] = await Promise.all([store.latency.measureOnce(key(), measure), store.latency.measureOnce(key(), measure)])
    expect(calls).toBe(1)
    expect(a).toEqual(b)
    expect((await store.latency.measureOnce(key(), measure)).medianS).toBe(1)
    expect(calls).toBe(1)
    expect((await store.latency.measureOnce(key(), measure, { force: true })).medianS).toBe(2)
    expect(calls).toBe(2)
    await expect(store.latency.measureOnce(key({ shape: 'k=1' }), async () => Promise.reject(new Error('board gone')))).rejects.toThrow('board gone')
    expect(store.latency.get(key({ shape: 'k=1' }))).toBeNull()
  })

  it('round-trips through CSV, including JSON with commas, quotes and line breaks', async () => {
    const raw = { ok: true, note: 'a "quoted", multi\nline value', layers: [1, 2] }
    store.latency.put(key(), { medianS: 0.5, minS: 0.25, maxS: 0.75, raw }, 42)
    store.latency.put(key({ operation: 'gemm_i8', dtype: 'i8' }), { medianS: 1e-6, minS: 1e-6, maxS: 2e-6, raw: null }, 43)
    const csv = store.latency.exportCsv()
    expect(csv.split('\n')[0]).toBe(LATENCY_CSV_COLUMNS.join(','))

    const other = tempHome()
    const second = new Store({ dataDir: other.dir })
    try {
      expect(await second.latency.importCsv(csv)).toBe(2)
      expect(second.latency.list()).toEqual(store.latency.list())
      expect(second.latency.get(key())!.raw).toEqual(raw)
    } finally {
      second.close()
      other.remove()
    }
  })

  it('imports nothing when any row is invalid, and says which row and why', async () => {
    store.latency.put(key(), { medianS: 0.5, minS: 0.25, maxS: 0.75, raw: null }, 42)
    const good = store.latency.exportCsv().trimEnd()
    const row = (fields: string[]) => fields.join(',')
    const base = ['b2', 'v', 'gemm_f32', '"m=1,n=1,k=1"', 'f32', '', '0.1', '0.05', '0.2', '7', 'null']
    const cases: [string, RegExp][] = [
      [row(base.map((f, i) => (i === 6 ? 'fast' : f))), /Row 4 of the CSV: median_s 'fast' is not a number/],
      [row(base.map((f, i) => (i === 7 ? '0.5' : f))), /Row 4 of the CSV: the times must satisfy min <= median <= max/],
      [row(base.slice(0, 10)), /Row 4 of the CSV has 10 fields; it needs 11/],
      [row(base.map((f, i) => (i === 10 ? '{bad' : f))), /Row 4 of the CSV: raw is not valid JSON/],
      [row(base.map((f, i) => (i === 0 ? '' : f))), /Row 4 of the CSV: The latency key needs a non-empty boardId/],
      [row(base.map((f, i) => (i === 9 ? '1.5' : f))), /Row 4 of the CSV: measured_at must be a whole number/],
    ]
    for (const [bad, message] of cases) {
      const csv = [good.split('\n')[0], row(base.map((f, i) => (i === 0 ? 'b1' : f))), good.split('\n')[1], bad].join('\n')
      await expect(store.latency.importCsv(csv)).rejects.toThrow(message)
      expect(store.latency.list().map((e) => e.boardId)).toEqual(['local'])
    }
    await expect(store.latency.importCsv('a,b\n1,2\n')).rejects.toThrow(/The CSV header must be exactly/)
    await expect(store.latency.importCsv(good + '\n"unterminated')).rejects.toThrow(/ends inside a quoted field/)
  })

  it('imports nothing when the bad row comes after several transactions of good ones', async () => {
    const csv = latencyCsv(2 * IMPORT_CHUNK_ROWS + 10) + '\nb,v,gemm_f32,"k=1",f32,,fast,0.001,0.003,7,null'
    await expect(store.latency.importCsv(csv)).rejects.toThrow(new RegExp(`Row ${2 * IMPORT_CHUNK_ROWS + 12} of the CSV: median_s 'fast'`))
    expect(store.latency.list()).toEqual([])
  })

  it('lets another process write during a large import: no transaction holds the lock for long', async () => {
    const rows = 60_000
    const csv = latencyCsv(rows)
    // Another Benchside process (a CLI measuring a board): a write every 10 ms, each waiting at most 1 s for the lock.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `
        const Database = require('better-sqlite3')
        const db = new Database(process.argv[1], { timeout: 1000 })
        const put = db.prepare("INSERT OR REPLACE INTO latency VALUES ('other', 'v', 'gemm_i8', ?, 'i8', '', 1, 1, 1, 0, 'null')")
        let n = 0
        const tick = () => {
          const began = Date.now()
          try {
            put.run('k=' + n++)
            process.stdout.write(JSON.stringify({ began, waitedMs: Date.now() - began }) + '\\n')
          } catch (error) {
            process.stdout.write(JSON.stringify({ began, waitedMs: Date.now() - began, error: error.message }) + '\\n')
          }
          setTimeout(tick, 10)
        }
        tick()
        `,
        join(home.dir, 'benchside.sqlite'),
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const writes: { began: number; waitedMs: number; error?: string }[] = []
    let buffered = ''
    writer.stdout.on('data', (chunk: Buffer) => {
      const lines = (buffered + chunk.toString()).split('\n')
      buffered = lines.pop()!
      for (const line of lines) writes.push(JSON.parse(line) as { began: number; waitedMs: number; error?: string })
    })
    try {
      await waitFor(() => writes.length >= 3, 15_000, 'the other writer to start')
      const began = Date.now()
      expect(await store.latency.importCsv(csv)).toBe(rows)
      const ended = Date.now()
      // Every write that began during the import has been answered once one that began after it has.
      await waitFor(() => writes.some((w) => w.began > ended), 15_000, 'a write after the import')
      expect(writes.filter((w) => w.began >= began && w.began <= ended).length).toBeGreaterThan(3)
      expect(writes.filter((w) => w.error)).toEqual([])
      expect(Math.max(...writes.map((w) => w.waitedMs))).toBeLessThan(1000)
    } finally {
      writer.kill()
    }
    expect(store.latency.list({ boardId: 'b' })).toHaveLength(rows)
    expect(store.latency.list({ boardId: 'other' }).length).toBeGreaterThan(3)
  })

  it('parses RFC 4180 CSV', () => {
    expect(parseCsv('a,"b,c","d""e"\r\n"f\ng",,h\n')).toEqual([
      ['a', 'b,c', 'd"e'],
      ['f\ng', '', 'h'],
    ])
  })

  it('keeps the table in a plain SQLite file other tools can read', () => {
    store.latency.put(key(), { medianS: 0.5, minS: 0.25, maxS: 0.75, raw: null }, 42)
    store.close()
    const db = new Database(join(home.dir, 'benchside.sqlite'), { readonly: true })
    expect(db.prepare('SELECT board_id, median_s FROM latency').all()).toEqual([{ board_id: 'local', median_s: 0.5 }])
    db.close()
  })
})

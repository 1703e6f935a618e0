// The latency look-up table: one measured timing per (board, agent version, operation, shape, dtype, layout),
// measured once and reused by compression searches; exported and imported as CSV (a bad row imports nothing).
import type { Database } from 'better-sqlite3'
import { setTimeout as sleep } from 'node:timers/promises'
import { BenchsideError, parseCsv, toCsv } from '../contract/index.ts'

export interface LatencyKey {
  boardId: string
  agentVersion: string
  operation: string
  /** Canonical shape text, e.g. "k=256,m=256,n=256" (see shapeKey in hardware/roofline-study.ts). */
  shape: string
  /** "f32", "i8", "a2w2", ... */
  dtype: string
  /** Data layout, "" when the operation has only one. */
  layout: string
}

export interface LatencyMeasurement {
  medianS: number
  minS: number
  maxS: number
  /** The agent's full answer, kept for later analysis. */
  raw: unknown
}

export interface LatencyEntry extends LatencyKey, Omit<LatencyMeasurement, 'raw'> {
  measuredAt: number
  raw: unknown
}

interface LatencyRow {
  board_id: string
  agent_version: string
  operation: string
  shape: string
  dtype: string
  layout: string
  median_s: number
  min_s: number
  max_s: number
  measured_at: number
  raw: string
}

export const LATENCY_CSV_COLUMNS = [
  'board_id',
  'agent_version',
  'operation',
  'shape',
  'dtype',
  'layout',
  'median_s',
  'min_s',
  'max_s',
  'measured_at',
  'raw',
] as const

function toEntry(row: LatencyRow): LatencyEntry {
  return {
    boardId: row.board_id,
    agentVersion: row.agent_version,
    operation: row.operation,
    shape: row.shape,
    dtype: row.dtype,
    layout: row.layout,
    medianS: row.median_s,
    minS: row.min_s,
    maxS: row.max_s,
    measuredAt: row.measured_at,
    raw: JSON.parse(row.raw) as unknown,
  }
}

function upsertArgs(key: LatencyKey, m: LatencyMeasurement, measuredAt: number): unknown[] {
  return [key.boardId, key.agentVersion, key.operation, key.shape, key.dtype, key.layout, m.medianS, m.minS, m.maxS, measuredAt, JSON.stringify(m.raw ?? null)]
}

function invalid(message: string, field?: string): BenchsideError {
  return new BenchsideError(field === undefined ? { code: 'INVALID_ARGS', message } : { code: 'INVALID_ARGS', message, field })
}

function checkKey(key: LatencyKey): void {
  for (const field of ['boardId', 'agentVersion', 'operation', 'shape', 'dtype'] as const) {
    if (typeof key[field] !== 'string' || key[field].trim() === '') throw invalid(`The latency key needs a non-empty ${field}.`, field)
  }
  if (typeof key.layout !== 'string') throw invalid('The latency key needs a layout string ("" when there is none).', 'layout')
}

function checkMeasurement(m: { medianS: number; minS: number; maxS: number }, where = 'The measurement'): void {
  for (const field of ['medianS', 'minS', 'maxS'] as const) {
    if (!(Number.isFinite(m[field]) && m[field] >= 0)) throw invalid(`${where}: ${field} must be a finite number of seconds >= 0, got ${m[field]}.`, field)
  }
  if (!(m.minS <= m.medianS && m.medianS <= m.maxS)) {
    throw invalid(`${where}: the times must satisfy min <= median <= max, got ${m.minS}, ${m.medianS}, ${m.maxS}.`)
  }
}

/** Rows per import transaction: short enough that other processes' writes get the lock well within their busy timeout. */
export const IMPORT_CHUNK_ROWS = 500

const UPSERT = `INSERT OR REPLACE INTO latency (board_id, agent_version, operation, shape, dtype, layout, median_s, min_s, max_s, measured_at, raw)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

export class LatencyTable {
  private readonly inFlight = new Map<string, Promise<LatencyEntry>>()

  constructor(private readonly db: Database) {}

  get(key: LatencyKey): LatencyEntry | null {
    checkKey(key)
    const row = this.db
      .prepare(`SELECT * FROM latency WHERE board_id = ? AND agent_version = ? AND operation = ? AND shape = ? AND dtype = ? AND layout = ?`)
      .get(key.boardId, key.agentVersion, key.operation, key.shape, key.dtype, key.layout) as LatencyRow | undefined
    return row ? toEntry(row) : null
  }

  /** Stores (or replaces) the measurement for the key. */
  put(key: LatencyKey, measurement: LatencyMeasurement, measuredAt: number = Date.now()): LatencyEntry {
    checkKey(key)
    checkMeasurement(measurement)
    this.db.prepare(UPSERT).run(...upsertArgs(key, measurement, measuredAt))
    return this.get(key)!
  }

  /** Returns the stored entry, or measures once and stores it; concurrent calls for one key share one measurement. */
  async measureOnce(key: LatencyKey, measure: () => Promise<LatencyMeasurement>, options: { force?: boolean } = {}): Promise<LatencyEntry> {
    checkKey(key)
    const id = JSON.stringify([key.boardId, key.agentVersion, key.operation, key.shape, key.dtype, key.layout])
    const pending = this.inFlight.get(id)
    if (pending) return pending
    if (!options.force) {
      const stored = this.get(key)
      if (stored) return stored
    }
    const run = (async () => this.put(key, await measure()))().finally(() => this.inFlight.delete(id))
    this.inFlight.set(id, run)
    return run
  }

  list(filter: { boardId?: string; operation?: string } = {}): LatencyEntry[] {
    const where: string[] = []
    const args: string[] = []
    if (filter.boardId !== undefined) {
      where.push('board_id = ?')
      args.push(filter.boardId)
    }
    if (filter.operation !== undefined) {
      where.push('operation = ?')
      args.push(filter.operation)
    }
    const sql = `SELECT * FROM latency ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY board_id, agent_version, operation, shape, dtype, layout`
    return (this.db.prepare(sql).all(...args) as LatencyRow[]).map(toEntry)
  }

  exportCsv(filter: { boardId?: string; operation?: string } = {}): string {
    const rows = this.list(filter).map((e) => [
      e.boardId,
      e.agentVersion,
      e.operation,
      e.shape,
      e.dtype,
      e.layout,
      e.medianS,
      e.minS,
      e.maxS,
      e.measuredAt,
      JSON.stringify(e.raw),
    ])
    return toCsv([LATENCY_CSV_COLUMNS, ...rows])
  }

  /**
   * Validates every row first (a bad row imports nothing), then writes them in transactions of IMPORT_CHUNK_ROWS,
   * pausing between them as long as the last one took, so no writer in another process waits past its busy timeout
   * (a 45 MB CSV in one transaction held the lock longer than their 5 s). Rows are upserts: an import stopped part-way
   * leaves whole rows, and importing the file again completes it.
   */
  async importCsv(text: string): Promise<number> {
    const rows = parseCsv(text.replace(/^\uFEFF/, ''))
    const header = rows.shift()
    if (!header || header.join(',') !== LATENCY_CSV_COLUMNS.join(',')) {
      throw invalid(`The CSV header must be exactly: ${LATENCY_CSV_COLUMNS.join(',')}.`)
    }
    const entries: { key: LatencyKey; m: LatencyMeasurement; at: number }[] = []
    rows.forEach((row, index) => {
      const line = `Row ${index + 2} of the CSV`
      if (row.length === 1 && row[0] === '') return
      if (row.length !== LATENCY_CSV_COLUMNS.length) throw invalid(`${line} has ${row.length} fields; it needs ${LATENCY_CSV_COLUMNS.length}.`)
      const [boardId, agentVersion, operation, shape, dtype, layout, median, min, max, at, raw] = row as [string, ...string[]]
      const number = (text: string, name: string): number => {
        const value = text.trim() === '' ? NaN : Number(text)
        if (!Number.isFinite(value)) throw invalid(`${line}: ${name} '${text}' is not a number.`)
        return value
      }
      const key: LatencyKey = { boardId, agentVersion: agentVersion!, operation: operation!, shape: shape!, dtype: dtype!, layout: layout! }
      try {
        checkKey(key)
      } catch (error) {
        throw invalid(`${line}: ${(error as Error).message}`)
      }
      const m = { medianS: number(median!, 'median_s'), minS: number(min!, 'min_s'), maxS: number(max!, 'max_s') }
      checkMeasurement(m, line)
      const measuredAt = number(at!, 'measured_at')
      if (!Number.isInteger(measuredAt) || measuredAt < 0) throw invalid(`${line}: measured_at must be a whole number of milliseconds since 1970.`)
      let parsedRaw: unknown
      try {
        parsedRaw = JSON.parse(raw!)
      } catch {
        throw invalid(`${line}: raw is not valid JSON.`)
      }
      entries.push({ key, m: { ...m, raw: parsedRaw }, at: measuredAt })
    })
    const upsert = this.db.prepare(UPSERT)
    const writeChunk = this.db.transaction((chunk: typeof entries) => chunk.forEach((e) => upsert.run(...upsertArgs(e.key, e.m, e.at))))
    for (let start = 0; start < entries.length; start += IMPORT_CHUNK_ROWS) {
      const began = performance.now()
      writeChunk(entries.slice(start, start + IMPORT_CHUNK_ROWS))
      // The lock is free while this waits: a writer that polls for it gets it about every other try.
      if (start + IMPORT_CHUNK_ROWS < entries.length) await sleep(Math.max(1, performance.now() - began))
    }
    return entries.length
  }
}

// Runs and everything recorded against them: params (written once), metrics, tags, notes, artifacts.
import type { Database } from 'better-sqlite3'
import type { z } from 'zod'
import { randomUUID } from 'node:crypto'
import { join, normalize, sep } from 'node:path'
import {
  BenchsideError,
  metricNumber,
  metricValue,
  type Artifact,
  type JobProgress,
  type MetricPoint,
  type Note,
  type RunDetail,
  type RunStatus,
  type RunSummary,
} from '../contract/index.ts'
import { JobProgress as JobProgressSchema, RunFilter } from '../contract/index.ts'
import { pathInside, writeFileAtomic } from './files.ts'

type RunFilterParsed = z.output<typeof RunFilter>

/** A run as the summary queries read it (SUMMARY_COLUMNS). */
export interface RunRow {
  uuid: string
  name: string
  kind: string
  experiment: string
  status: RunStatus
  created_at: number
  start_time: number | null
  end_time: number | null
  error: string | null
  deleted_at: number | null
  tags: string | null
}

export interface NewRun {
  name: string
  kind: string
  experiment?: string
  jobSpec?: unknown
  status?: RunStatus
  /** The process that will run it; runs whose owner died become INTERRUPTED at the next start. */
  owner?: { pid: number; host: string }
}

const FINAL_STATUSES: readonly RunStatus[] = ['FINISHED', 'FAILED', 'KILLED', 'INTERRUPTED']

/** A run's summary columns (toSummary reads them), its experiment and tags, over `runs r JOIN experiments e`. */
export const SUMMARY_COLUMNS = `r.uuid, r.name, r.kind, e.name AS experiment, r.status, r.created_at, r.start_time, r.end_time, r.error,
         r.deleted_at, (SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM tags t WHERE t.run_uuid = r.uuid ORDER BY tag)) AS tags`
export const RUNS_FROM = `FROM runs r JOIN experiments e ON e.id = r.experiment_id`
const SUMMARY_SELECT = `SELECT ${SUMMARY_COLUMNS} ${RUNS_FROM}`

export function toSummary(row: RunRow): RunSummary {
  return {
    uuid: row.uuid,
    name: row.name,
    kind: row.kind,
    experiment: row.experiment,
    status: row.status,
    createdAt: row.created_at,
    startTime: row.start_time,
    endTime: row.end_time,
    error: row.error,
    tags: row.tags ? row.tags.split('\u001f') : [],
    deleted: row.deleted_at !== null,
  }
}

/** The WHERE clauses (over `runs r JOIN experiments e`) of a run filter's kind, status, tag, text and deleted fields. */
export function runFilterWhere(f: Omit<RunFilterParsed, 'limit'>): { where: string[]; args: unknown[] } {
  const where: string[] = []
  const args: unknown[] = []
  if (!f.includeDeleted) where.push('r.deleted_at IS NULL')
  const filterBy = (clause: string, value: unknown): void => {
    where.push(clause)
    args.push(value)
  }
  if (f.kind) filterBy('r.kind = ?', f.kind)
  if (f.status) filterBy('r.status = ?', f.status)
  if (f.tag) filterBy('EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.uuid AND t.tag = ?)', f.tag)
  if (f.text) {
    const like = `%${f.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`
    where.push(
      `(r.name LIKE ? ESCAPE '\\' OR r.kind LIKE ? ESCAPE '\\' OR r.uuid LIKE ? ESCAPE '\\' OR e.name LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.uuid AND t.tag LIKE ? ESCAPE '\\')
        OR EXISTS (SELECT 1 FROM notes n WHERE n.run_uuid = r.uuid AND n.text LIKE ? ESCAPE '\\'))`,
    )
    args.push(like, like, like, like, like, like)
  }
  return { where, args }
}

/** A stored progress row as the contract has it; a row another version wrote differently is skipped. */
function parsedProgress(text: string): JobProgress[] {
  try {
    const parsed = JobProgressSchema.safeParse(JSON.parse(text))
    return parsed.success ? [parsed.data] : []
  } catch {
    return []
  }
}

export class RunsRepository {
  constructor(
    private readonly db: Database,
    private readonly artifactsDir: string,
  ) {}

  create(run: NewRun): RunSummary {
    const uuid = randomUUID()
    const now = Date.now()
    this.db.transaction(() => {
      const experimentId = this.experimentId(run.experiment ?? 'Default')
      this.db
        .prepare(
          `INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at, job_spec, owner_pid, owner_host)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          uuid,
          experimentId,
          run.name,
          run.kind,
          run.status ?? 'SCHEDULED',
          now,
          run.jobSpec === undefined ? null : JSON.stringify(run.jobSpec),
          run.owner?.pid ?? null,
          run.owner?.host ?? null,
        )
    })()
    return this.summary(uuid)
  }

  private experimentId(name: string): number {
    this.db.prepare(`INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)`).run(name, Date.now())
    return (this.db.prepare(`SELECT id FROM experiments WHERE name = ?`).get(name) as { id: number }).id
  }

  /** Accepts a full uuid or an unambiguous prefix of at least 4 characters, as users type them. */
  resolve(idOrPrefix: string): string {
    const id = idOrPrefix.trim().toLowerCase()
    const exact = this.db.prepare(`SELECT uuid FROM runs WHERE uuid = ?`).get(id) as { uuid: string } | undefined
    if (exact) return exact.uuid
    if (id.length >= 4 && /^[0-9a-f-]+$/.test(id)) {
      const rows = this.db.prepare(`SELECT uuid FROM runs WHERE uuid LIKE ? || '%' LIMIT 2`).all(id) as { uuid: string }[]
      if (rows.length === 1) return rows[0]!.uuid
      if (rows.length > 1) {
        throw new BenchsideError({ code: 'CONFLICT', message: `Run id '${idOrPrefix}' matches several runs; type more of it.` })
      }
    }
    throw new BenchsideError({ code: 'NOT_FOUND', message: `No run has the id '${idOrPrefix}'. 'benchside runs list' shows the ids.` })
  }

  summary(uuid: string): RunSummary {
    const row = this.db.prepare(`${SUMMARY_SELECT} WHERE r.uuid = ?`).get(uuid) as RunRow | undefined
    if (!row) throw new BenchsideError({ code: 'NOT_FOUND', message: `No run has the id '${uuid}'.` })
    return toSummary(row)
  }

  list(filter: RunFilter = {}): RunSummary[] {
    const f = RunFilter.parse(filter)
    const { where, args } = runFilterWhere(f)
    const sql = `${SUMMARY_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?`
    return (this.db.prepare(sql).all(...args, f.limit) as RunRow[]).map(toSummary)
  }

  /** A run's record; with `since`, only the metrics logged after that cursor (a view that has the rest). */
  detail(uuid: string, since?: { metrics: number }): RunDetail {
    const summary = this.summary(uuid)
    const params = Object.fromEntries(
      (this.db.prepare(`SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key`).all(uuid) as { key: string; value: string }[]).map((p) => [
        p.key,
        p.value,
      ]),
    )
    const rows = (
      since
        ? this.db
            .prepare(`SELECT rowid AS id, key, value, is_nan, step, time FROM metrics WHERE run_uuid = ? AND rowid > ? ORDER BY rowid`)
            .all(uuid, since.metrics)
        : this.db.prepare(`SELECT rowid AS id, key, value, is_nan, step, time FROM metrics WHERE run_uuid = ? ORDER BY key, step`).all(uuid)
    ) as { id: number; key: string; value: number; is_nan: 0 | 1; step: number; time: number }[]
    let cursor = since?.metrics ?? 0
    const metrics = rows.map(({ id, key, value, is_nan, step, time }): MetricPoint => {
      cursor = Math.max(cursor, id)
      return { key, value: metricValue(is_nan ? NaN : value), step, time }
    })
    const notes = this.db.prepare(`SELECT id, text, time FROM notes WHERE run_uuid = ? ORDER BY id`).all(uuid) as Note[]
    const artifacts = this.db.prepare(`SELECT path, sha256, size, time FROM artifacts WHERE run_uuid = ? ORDER BY path`).all(uuid) as Artifact[]
    return { ...summary, params, metrics, notes, artifacts, cursor: { metrics: cursor } }
  }

  /** Live (not deleted) runs of the given kinds that hold an artifact at `path`, newest first. */
  withArtifact(path: string, kinds: readonly string[], status: RunStatus = 'FINISHED'): RunSummary[] {
    const rows = this.db
      .prepare(
        `${SUMMARY_SELECT} WHERE r.deleted_at IS NULL AND r.status = ? AND r.kind IN (${kinds.map(() => '?').join(',')})
         AND EXISTS (SELECT 1 FROM artifacts a WHERE a.run_uuid = r.uuid AND a.path = ?) ORDER BY r.created_at DESC`,
      )
      .all(status, ...kinds, path) as RunRow[]
    return rows.map(toSummary)
  }

  /** Live runs of a kind whose param `key` is `value`, newest first. */
  withParam(kind: string, key: string, value: string, status: RunStatus = 'FINISHED'): RunSummary[] {
    const rows = this.db
      .prepare(
        `${SUMMARY_SELECT} WHERE r.deleted_at IS NULL AND r.kind = ? AND r.status = ?
         AND EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.uuid AND p.key = ? AND p.value = ?) ORDER BY r.created_at DESC, r.rowid DESC`,
      )
      .all(kind, status, key, value) as RunRow[]
    return rows.map(toSummary)
  }

  /** The value at the last step of one metric (NaN or ±Infinity if that is what was logged), or null. */
  lastMetric(uuid: string, key: string): number | null {
    const row = this.db.prepare(`SELECT value, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step DESC LIMIT 1`).get(uuid, key) as
      { value: number; is_nan: 0 | 1 } | undefined
    return row ? (row.is_nan ? NaN : row.value) : null
  }

  params(uuid: string): Record<string, string> {
    const rows = this.db.prepare(`SELECT key, value FROM params WHERE run_uuid = ?`).all(uuid) as { key: string; value: string }[]
    return Object.fromEntries(rows.map((p) => [p.key, p.value]))
  }

  jobSpec(uuid: string): unknown {
    const row = this.db.prepare(`SELECT job_spec FROM runs WHERE uuid = ?`).get(uuid) as { job_spec: string | null } | undefined
    return row?.job_spec ? JSON.parse(row.job_spec) : null
  }

  /** SCHEDULED (queued) or RUNNING, owned by the given process; also how a resumed run re-opens. */
  markActive(uuid: string, status: 'SCHEDULED' | 'RUNNING', owner: { pid: number; host: string }): void {
    this.db
      .prepare(
        `UPDATE runs SET status = ?, start_time = CASE WHEN ? = 'RUNNING' THEN coalesce(start_time, ?) ELSE start_time END,
         end_time = NULL, error = NULL, owner_pid = ?, owner_host = ? WHERE uuid = ?`,
      )
      .run(status, status, Date.now(), owner.pid, owner.host, uuid)
  }

  /** Ends a run; a run already in a final state keeps it (a late crash report cannot turn KILLED into FAILED). */
  finish(uuid: string, status: RunStatus, error: string | null = null): RunSummary {
    this.db
      .prepare(
        `UPDATE runs SET status = ?, end_time = ?, error = ?, owner_pid = NULL
         WHERE uuid = ? AND status NOT IN (${FINAL_STATUSES.map(() => '?').join(',')})`,
      )
      .run(status, Date.now(), error, uuid, ...FINAL_STATUSES)
    return this.summary(uuid)
  }

  /** Runs left RUNNING or SCHEDULED by a process that no longer exists become INTERRUPTED. */
  interruptOrphans(host: string, isAlive: (pid: number) => boolean): string[] {
    const rows = this.db.prepare(`SELECT uuid, owner_pid, owner_host FROM runs WHERE status IN ('RUNNING','SCHEDULED')`).all() as {
      uuid: string
      owner_pid: number | null
      owner_host: string | null
    }[]
    const orphans = rows.filter((r) => r.owner_pid === null || (r.owner_host === host && !isAlive(r.owner_pid)))
    const mark = this.db.prepare(
      `UPDATE runs SET status = 'INTERRUPTED', end_time = ?, owner_pid = NULL,
       error = coalesce(error, 'The Benchside process that ran this job stopped before it finished.') WHERE uuid = ?`,
    )
    this.db.transaction(() => orphans.forEach((r) => mark.run(Date.now(), r.uuid)))()
    return orphans.map((r) => r.uuid)
  }

  /** The process a SCHEDULED or RUNNING run belongs to (null once it ended or when nobody owns it). */
  owner(uuid: string): { pid: number; host: string } | null {
    const row = this.db.prepare(`SELECT owner_pid, owner_host FROM runs WHERE uuid = ?`).get(uuid) as
      { owner_pid: number | null; owner_host: string | null } | undefined
    return row?.owner_pid != null && row.owner_host != null ? { pid: row.owner_pid, host: row.owner_host } : null
  }

  /** Mirrors a job's progress for the other processes sharing this folder (their trays show it); seq orders the writes. */
  writeJobProgress(uuid: string, owner: { pid: number; host: string }, progress: JobProgress): void {
    this.db
      .prepare(
        `INSERT INTO job_progress (run_uuid, owner_pid, owner_host, progress, seq, updated_at)
         VALUES (?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM job_progress), ?)
         ON CONFLICT (run_uuid) DO UPDATE SET owner_pid = excluded.owner_pid, owner_host = excluded.owner_host,
           progress = excluded.progress, seq = excluded.seq, updated_at = excluded.updated_at`,
      )
      .run(uuid, owner.pid, owner.host, JSON.stringify(progress), Date.now())
  }

  /** Where a reader of job_progress starts: the newest write. */
  jobProgressCursor(): number {
    return (this.db.prepare(`SELECT coalesce(max(seq), 0) AS n FROM job_progress`).get() as { n: number }).n
  }

  /** Progress other processes wrote after `afterSeq`, and the cursor to read from next. */
  jobProgressSince(afterSeq: number, notOwner: { pid: number; host: string }): { cursor: number; jobs: JobProgress[] } {
    const rows = this.db
      .prepare(`SELECT progress, seq FROM job_progress WHERE seq > ? AND NOT (owner_pid = ? AND owner_host = ?) ORDER BY seq`)
      .all(afterSeq, notOwner.pid, notOwner.host) as { progress: string; seq: number }[]
    return { cursor: Math.max(afterSeq, this.jobProgressCursor()), jobs: rows.flatMap((r) => parsedProgress(r.progress)) }
  }

  /** The progress of every job whose run is still SCHEDULED or RUNNING, with the process that runs it. */
  activeJobs(): { progress: JobProgress; owner: { pid: number; host: string } }[] {
    const rows = this.db
      .prepare(
        `SELECT j.progress, j.owner_pid, j.owner_host FROM job_progress j JOIN runs r ON r.uuid = j.run_uuid
         WHERE r.status IN ('SCHEDULED', 'RUNNING') ORDER BY j.seq`,
      )
      .all() as { progress: string; owner_pid: number; owner_host: string }[]
    return rows.flatMap((r) => parsedProgress(r.progress).map((progress) => ({ progress, owner: { pid: r.owner_pid, host: r.owner_host } })))
  }

  /** Asks the process that runs a job to cancel it (it checks through its change feed). */
  requestCancel(uuid: string): void {
    this.db.prepare(`INSERT OR IGNORE INTO job_cancel_requests (run_uuid, requested_at) VALUES (?, ?)`).run(uuid, Date.now())
  }

  /** Cancel requests for active runs the given process owns. */
  cancelRequestsFor(owner: { pid: number; host: string }): string[] {
    const rows = this.db
      .prepare(
        `SELECT c.run_uuid FROM job_cancel_requests c JOIN runs r ON r.uuid = c.run_uuid
         WHERE r.owner_pid = ? AND r.owner_host = ? AND r.status IN ('SCHEDULED', 'RUNNING')`,
      )
      .all(owner.pid, owner.host) as { run_uuid: string }[]
    return rows.map((r) => r.run_uuid)
  }

  /** A request that was acted on, or whose run is over. */
  dropCancelRequest(uuid: string): void {
    this.db.prepare(`DELETE FROM job_cancel_requests WHERE run_uuid = ?`).run(uuid)
  }

  /** Forgets the progress of jobs that ended and the cancel requests of runs no longer active. */
  pruneJobs(): void {
    const ended = `SELECT uuid FROM runs WHERE status NOT IN ('SCHEDULED', 'RUNNING')`
    this.db.prepare(`DELETE FROM job_progress WHERE updated_at < ? AND run_uuid IN (${ended})`).run(Date.now() - 60_000)
    this.db.prepare(`DELETE FROM job_cancel_requests WHERE run_uuid IN (${ended})`).run()
  }

  /** Params are written once: the same value again is fine, a different one is refused. */
  logParam(uuid: string, key: string, value: string): void {
    const existing = this.db.prepare(`SELECT value FROM params WHERE run_uuid = ? AND key = ?`).get(uuid, key) as { value: string } | undefined
    if (existing) {
      if (existing.value === value) return
      throw new BenchsideError({
        code: 'CONFLICT',
        message: `Param '${key}' of run ${uuid} is already '${existing.value}'; params are written once.`,
      })
    }
    this.db.prepare(`INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)`).run(uuid, key, value)
  }

  /**
   * Stores points; a point whose (key, step) the run already has is ignored, so a resumed job that logs it again changes
   * nothing (the first value stays). NaN is stored as value 0 with is_nan 1 (SQLite has no NaN); ±Infinity as it is.
   */
  logMetrics(uuid: string, points: readonly MetricPoint[]): void {
    const insert = this.db.prepare(
      `INSERT INTO metrics (run_uuid, key, value, is_nan, step, time) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_uuid, key, step) DO NOTHING`,
    )
    this.db.transaction(() =>
      points.forEach((p) => {
        const value = metricNumber(p.value)
        insert.run(uuid, p.key, Number.isNaN(value) ? 0 : value, Number.isNaN(value) ? 1 : 0, p.step, p.time)
      }),
    )()
  }

  /** The last step logged per metric key, so a resumed job can carry on after it. */
  lastSteps(uuid: string): Record<string, number> {
    const rows = this.db.prepare(`SELECT key, max(step) AS step FROM metrics WHERE run_uuid = ? GROUP BY key`).all(uuid) as {
      key: string
      step: number
    }[]
    return Object.fromEntries(rows.map((r) => [r.key, r.step]))
  }

  addTag(uuid: string, tag: string): RunSummary {
    this.db.prepare(`INSERT OR IGNORE INTO tags (run_uuid, tag) VALUES (?, ?)`).run(uuid, tag)
    return this.summary(uuid)
  }

  removeTag(uuid: string, tag: string): RunSummary {
    this.db.prepare(`DELETE FROM tags WHERE run_uuid = ? AND tag = ?`).run(uuid, tag)
    return this.summary(uuid)
  }

  addNote(uuid: string, text: string): Note {
    const time = Date.now()
    const { lastInsertRowid } = this.db.prepare(`INSERT INTO notes (run_uuid, text, time) VALUES (?, ?, ?)`).run(uuid, text, time)
    return { id: Number(lastInsertRowid), text, time }
  }

  rename(uuid: string, name: string): RunSummary {
    this.db.prepare(`UPDATE runs SET name = ? WHERE uuid = ?`).run(name, uuid)
    return this.summary(uuid)
  }

  setDeleted(uuid: string, deleted: boolean): RunSummary {
    this.db.prepare(`UPDATE runs SET deleted_at = ? WHERE uuid = ?`).run(deleted ? Date.now() : null, uuid)
    return this.summary(uuid)
  }

  /** A live run's recorded artifact at exactly `path`, or null: downloads serve only what the store recorded. */
  recordedArtifact(uuid: string, path: string): Artifact | null {
    const row = this.db
      .prepare(
        `SELECT a.path, a.sha256, a.size, a.time FROM artifacts a JOIN runs r ON r.uuid = a.run_uuid
         WHERE a.run_uuid = ? AND a.path = ? AND r.deleted_at IS NULL`,
      )
      .get(uuid, path) as Artifact | undefined
    return row ?? null
  }

  /** Where a run's artifact lives on disk; refuses paths that would leave the run's folder. */
  artifactPath(uuid: string, relativePath: string): string {
    return pathInside(join(this.artifactsDir, uuid), relativePath)
  }

  /** Records a file already written under artifactPath(); hash and size identify its content. */
  recordArtifact(uuid: string, relativePath: string, sha256: string, size: number): Artifact {
    const artifact = { path: normalize(relativePath).split(sep).join('/'), sha256, size, time: Date.now() }
    this.db
      .prepare(`INSERT OR REPLACE INTO artifacts (run_uuid, path, sha256, size, time) VALUES (?, ?, ?, ?, ?)`)
      .run(uuid, artifact.path, sha256, size, artifact.time)
    return artifact
  }

  /** Writes the file atomically (temp file, then rename) and records it. */
  writeArtifact(uuid: string, relativePath: string, data: Uint8Array | string): Artifact {
    const { sha256, size } = writeFileAtomic(this.artifactPath(uuid, relativePath), data)
    return this.recordArtifact(uuid, relativePath, sha256, size)
  }
}

// Numbered schema migrations. Append only: a released migration is never edited, the next number fixes it.
import type { Database } from 'better-sqlite3'

export const migrations: readonly string[] = [
  // 1: tracking tables in the spirit of MLflow.
  `
  CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE runs (
    uuid           TEXT PRIMARY KEY,
    experiment_id  INTEGER NOT NULL REFERENCES experiments(id),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('SCHEDULED','RUNNING','FINISHED','FAILED','KILLED','INTERRUPTED')),
    created_at     INTEGER NOT NULL,
    start_time     INTEGER,
    end_time       INTEGER,
    error          TEXT,
    job_spec       TEXT,
    owner_pid      INTEGER,
    owner_host     TEXT,
    deleted_at     INTEGER
  );
  CREATE INDEX runs_by_created ON runs(created_at DESC);
  CREATE TABLE params (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
  ) WITHOUT ROWID;
  CREATE TABLE metrics (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     REAL NOT NULL,
    step      INTEGER NOT NULL,
    time      INTEGER NOT NULL
  );
  CREATE INDEX metrics_by_run ON metrics(run_uuid, key, step);
  CREATE TABLE tags (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (run_uuid, tag)
  ) WITHOUT ROWID;
  CREATE TABLE notes (
    id        INTEGER PRIMARY KEY,
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    text      TEXT NOT NULL,
    time      INTEGER NOT NULL
  );
  CREATE TABLE artifacts (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    path      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    size      INTEGER NOT NULL,
    time      INTEGER NOT NULL,
    PRIMARY KEY (run_uuid, path)
  ) WITHOUT ROWID;
  `,
  // 2: latency look-up table, one measured timing per board, agent version, operation, shape, dtype and layout.
  `
  CREATE TABLE latency (
    board_id       TEXT NOT NULL,
    agent_version  TEXT NOT NULL,
    operation      TEXT NOT NULL,
    shape          TEXT NOT NULL,
    dtype          TEXT NOT NULL,
    layout         TEXT NOT NULL,
    median_s       REAL NOT NULL,
    min_s          REAL NOT NULL,
    max_s          REAL NOT NULL,
    measured_at    INTEGER NOT NULL,
    raw            TEXT NOT NULL,
    PRIMARY KEY (board_id, agent_version, operation, shape, dtype, layout)
  ) WITHOUT ROWID;
  `,
  // 3: datasets imported by the user (built-in ones are not stored). Files live under <data>/datasets/<id>/.
  `
  CREATE TABLE datasets (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    format        TEXT NOT NULL CHECK (format IN ('idx', 'npz', 'wav-folder')),
    path          TEXT NOT NULL,
    sample_shape  TEXT NOT NULL,
    class_names   TEXT NOT NULL,
    counts        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  );
  `,
  // 4: configured SSH boards (the local board is implicit), and one lease per board across processes.
  `
  CREATE TABLE boards (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    host        TEXT NOT NULL,
    port        INTEGER NOT NULL,
    username    TEXT NOT NULL,
    key_path    TEXT,
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE board_leases (
    board_id    TEXT PRIMARY KEY,
    owner_pid   INTEGER NOT NULL,
    owner_host  TEXT NOT NULL,
    run_uuid    TEXT,
    acquired_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 5: noise sweeps, stored per cell as they are measured so a stopped sweep resumes where it stopped.
  `
  CREATE TABLE sweep_cells (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    scope     TEXT NOT NULL,
    sigma     REAL NOT NULL,
    repeat    INTEGER NOT NULL,
    correct   INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    time      INTEGER NOT NULL,
    PRIMARY KEY (run_uuid, scope, sigma, repeat)
  ) WITHOUT ROWID;
  `,
  // 6: analog boards seen over serial (or emulated), and their calibrations: the fitted device model per board.
  `
  CREATE TABLE analog_devices (
    device_id   TEXT PRIMARY KEY,
    firmware    TEXT NOT NULL,
    info        TEXT NOT NULL,
    port        TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
  );
  CREATE TABLE analog_calibrations (
    id          INTEGER PRIMARY KEY,
    device_id   TEXT NOT NULL REFERENCES analog_devices(device_id) ON DELETE CASCADE,
    run_uuid    TEXT REFERENCES runs(uuid) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    model       TEXT NOT NULL,
    quality     TEXT NOT NULL
  );
  CREATE INDEX analog_calibrations_by_device ON analog_calibrations(device_id, created_at DESC);
  `,
  // 7: the change feed. Triggers log which run changed (from any process: app, web mode, CLI); metrics and sweep cells
  // are followed by their rowid, so a view asks only for what is new. Model ids typed short become full uuids: a
  // prefix resolves to the one run that existed with it when the referencing run was created.
  `
  UPDATE params SET value = (
      SELECT m.uuid FROM runs m WHERE m.uuid LIKE lower(params.value) || '%'
        AND m.created_at <= (SELECT r.created_at FROM runs r WHERE r.uuid = params.run_uuid))
    WHERE key = 'model' AND length(value) BETWEEN 4 AND 35 AND value NOT GLOB '*[^0-9a-fA-F-]*'
      AND (SELECT count(*) FROM runs m WHERE m.uuid LIKE lower(params.value) || '%'
        AND m.created_at <= (SELECT r.created_at FROM runs r WHERE r.uuid = params.run_uuid)) = 1;
  UPDATE runs SET job_spec = json_set(job_spec, '$.params.model', (
      SELECT m.uuid FROM runs m WHERE m.uuid LIKE lower(json_extract(runs.job_spec, '$.params.model')) || '%' AND m.created_at <= runs.created_at))
    WHERE json_valid(job_spec) AND length(json_extract(job_spec, '$.params.model')) BETWEEN 4 AND 35
      AND json_extract(job_spec, '$.params.model') NOT GLOB '*[^0-9a-fA-F-]*'
      AND (SELECT count(*) FROM runs m WHERE m.uuid LIKE lower(json_extract(runs.job_spec, '$.params.model')) || '%'
        AND m.created_at <= runs.created_at) = 1;

  CREATE TABLE run_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_uuid  TEXT NOT NULL
  );
  CREATE TRIGGER run_inserted AFTER INSERT ON runs BEGIN INSERT INTO run_changes (run_uuid) VALUES (new.uuid); END;
  CREATE TRIGGER run_updated AFTER UPDATE ON runs BEGIN INSERT INTO run_changes (run_uuid) VALUES (new.uuid); END;
  CREATE TRIGGER run_param_added AFTER INSERT ON params BEGIN INSERT INTO run_changes (run_uuid) VALUES (new.run_uuid); END;
  CREATE TRIGGER run_tag_added AFTER INSERT ON tags BEGIN INSERT INTO run_changes (run_uuid) VALUES (new.run_uuid); END;
  CREATE TRIGGER run_tag_removed AFTER DELETE ON tags BEGIN INSERT INTO run_changes (run_uuid) VALUES (old.run_uuid); END;
  CREATE TRIGGER run_note_added AFTER INSERT ON notes BEGIN INSERT INTO run_changes (run_uuid) VALUES (new.run_uuid); END;
  CREATE TRIGGER run_artifact_added AFTER INSERT ON artifacts BEGIN INSERT INTO run_changes (run_uuid) VALUES (new.run_uuid); END;

  CREATE INDEX metrics_by_run_rowid ON metrics(run_uuid);

  CREATE TABLE sweep_cells_v7 (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    scope     TEXT NOT NULL,
    sigma     REAL NOT NULL,
    repeat    INTEGER NOT NULL,
    correct   INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    time      INTEGER NOT NULL,
    UNIQUE (run_uuid, scope, sigma, repeat)
  );
  INSERT INTO sweep_cells_v7 (run_uuid, scope, sigma, repeat, correct, count, time)
    SELECT run_uuid, scope, sigma, repeat, correct, count, time FROM sweep_cells ORDER BY time;
  DROP TABLE sweep_cells;
  ALTER TABLE sweep_cells_v7 RENAME TO sweep_cells;
  CREATE INDEX sweep_cells_by_run_rowid ON sweep_cells(run_uuid);
  `,
  // 8: the run table at 10,000 runs (bench/run-table.ts). metric_last keeps each run's last finite value per metric
  // (highest step, then latest insert), kept by a trigger, so sorting, filtering and showing a metric column reads one
  // small row per run instead of seeking through its points (sorting 10,000 runs by a metric: 100 ms → 12–22 ms). ±Infinity is left
  // out (JSON cannot carry it; NaN never reaches the table, metrics.value is NOT NULL). The key indexes give the
  // column pickers their distinct keys by seeking, not scanning.
  `
  CREATE TABLE metric_last (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (run_uuid, key)
  ) WITHOUT ROWID;
  INSERT INTO metric_last (run_uuid, key, step, value)
    SELECT run_uuid, key, step, value FROM (
      SELECT run_uuid, key, step, value, row_number() OVER (PARTITION BY run_uuid, key ORDER BY step DESC, rowid DESC) AS n
      FROM metrics WHERE value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)
    WHERE n = 1;
  -- A new row has the highest rowid, so on a tie in step the later point wins, as 'latest rowid' says.
  CREATE TRIGGER metric_last_logged AFTER INSERT ON metrics
    WHEN new.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
  BEGIN
    INSERT INTO metric_last (run_uuid, key, step, value) VALUES (new.run_uuid, new.key, new.step, new.value)
      ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, value = excluded.value WHERE excluded.step >= metric_last.step;
  END;
  CREATE INDEX metric_last_by_key ON metric_last(key);
  CREATE INDEX params_by_key ON params(key);
  `,
  // 9: NaN metrics and idempotent metric writes. SQLite has no NaN (it binds as NULL, which metrics.value refuses), so a
  // NaN point is stored as MLflow does: value 0, is_nan 1; ±Infinity fits in a REAL. (run, key, step) becomes unique, so a
  // resumed job that logs a point again changes nothing (runs.ts inserts with ON CONFLICT DO NOTHING); the duplicates
  // older versions stored (4 of 9 resumed robustness studies) go, the first by rowid stays, and metric_last is
  // recomputed for the metrics that had them (migration 8 took the latest of a tie). The trigger skips is_nan rows,
  // which would otherwise count as a finite 0.
  `
  ALTER TABLE metrics ADD COLUMN is_nan INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1));
  CREATE TEMP TABLE repeated_metrics AS
    SELECT DISTINCT m.run_uuid, m.key FROM metrics m
    WHERE EXISTS (SELECT 1 FROM metrics f WHERE f.run_uuid = m.run_uuid AND f.key = m.key AND f.step = m.step AND f.rowid < m.rowid);
  DELETE FROM metrics
    WHERE EXISTS (SELECT 1 FROM metrics f WHERE f.run_uuid = metrics.run_uuid AND f.key = metrics.key AND f.step = metrics.step AND f.rowid < metrics.rowid);
  DELETE FROM metric_last WHERE (run_uuid, key) IN (SELECT run_uuid, key FROM repeated_metrics);
  INSERT INTO metric_last (run_uuid, key, step, value)
    SELECT run_uuid, key, step, value FROM (
      SELECT run_uuid, key, step, value, row_number() OVER (PARTITION BY run_uuid, key ORDER BY step DESC) AS n
      FROM metrics WHERE (run_uuid, key) IN (SELECT run_uuid, key FROM repeated_metrics)
        AND value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)
    WHERE n = 1;
  DROP TABLE repeated_metrics;
  DROP INDEX metrics_by_run;
  CREATE UNIQUE INDEX metrics_by_run ON metrics(run_uuid, key, step);
  DROP TRIGGER metric_last_logged;
  CREATE TRIGGER metric_last_logged AFTER INSERT ON metrics
    WHEN new.is_nan = 0 AND new.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
  BEGIN
    INSERT INTO metric_last (run_uuid, key, step, value) VALUES (new.run_uuid, new.key, new.step, new.value)
      ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, value = excluded.value WHERE excluded.step >= metric_last.step;
  END;
  `,
  // Jobs across processes (issue 13, item 7): every host that shares the data folder shows every live job in its tray
  // and may cancel it. The owning process mirrors its jobs' progress into job_progress (seq orders the writes for the
  // other processes' change feeds); a cancel request is a row in job_cancel_requests that the owner acts on.
  `
  CREATE TABLE job_progress (
    run_uuid    TEXT PRIMARY KEY REFERENCES runs(uuid) ON DELETE CASCADE,
    owner_pid   INTEGER NOT NULL,
    owner_host  TEXT NOT NULL,
    progress    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE INDEX job_progress_by_seq ON job_progress(seq);
  CREATE TABLE job_cancel_requests (
    run_uuid     TEXT PRIMARY KEY REFERENCES runs(uuid) ON DELETE CASCADE,
    requested_at INTEGER NOT NULL
  );
  `,
  // SLURM clusters (issue 18): profiles as added (tested), and per run placed on a cluster its executor state: the
  // array and retry job ids, each task's attempt and how far its result file has been read, so a restarted host
  // re-attaches and reads every line exactly once.
  `
  CREATE TABLE cluster_profiles (
    name        TEXT PRIMARY KEY,
    profile     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE cluster_runs (
    run_uuid    TEXT PRIMARY KEY REFERENCES runs(uuid) ON DELETE CASCADE,
    cluster     TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  `,
]

/** Brings the schema to the newest version, one transaction per migration; user_version counts what is applied. */
export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > migrations.length) {
    throw new Error(
      `The Benchside database is schema version ${current}, newer than this Benchside understands (${migrations.length}). Update Benchside, or set BENCHSIDE_HOME to another folder.`,
    )
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!)
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
  return migrations.length
}

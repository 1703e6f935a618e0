// Cluster profiles, and the executor state of runs placed on a cluster (array ids, tasks, how far results were read).
import type { Database } from 'better-sqlite3'
import { ClusterProfile } from '../contract/index.ts'

export class ClustersRepository {
  constructor(private readonly db: Database) {}

  list(): ClusterProfile[] {
    const rows = this.db.prepare(`SELECT profile FROM cluster_profiles ORDER BY created_at`).all() as { profile: string }[]
    return rows.map((row) => ClusterProfile.parse(JSON.parse(row.profile)))
  }

  get(name: string): ClusterProfile | null {
    const row = this.db.prepare(`SELECT profile FROM cluster_profiles WHERE name = ?`).get(name) as { profile: string } | undefined
    return row ? ClusterProfile.parse(JSON.parse(row.profile)) : null
  }

  /** Adds or replaces the profile of that name. */
  save(profile: ClusterProfile): void {
    this.db
      .prepare(
        `INSERT INTO cluster_profiles (name, profile, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET profile = excluded.profile`,
      )
      .run(profile.name, JSON.stringify(profile), Date.now())
  }

  remove(name: string): boolean {
    return this.db.prepare(`DELETE FROM cluster_profiles WHERE name = ?`).run(name).changes > 0
  }

  /** The cluster a run is placed on, or null for a local run. */
  placementOf(runUuid: string): { cluster: string; state: unknown } | null {
    const row = this.db.prepare(`SELECT cluster, state FROM cluster_runs WHERE run_uuid = ?`).get(runUuid) as { cluster: string; state: string } | undefined
    return row ? { cluster: row.cluster, state: JSON.parse(row.state) as unknown } : null
  }

  place(runUuid: string, cluster: string, state: unknown): void {
    this.db
      .prepare(`INSERT INTO cluster_runs (run_uuid, cluster, state, updated_at) VALUES (?, ?, ?, ?)`)
      .run(runUuid, cluster, JSON.stringify(state), Date.now())
  }

  saveState(runUuid: string, state: unknown): void {
    this.db.prepare(`UPDATE cluster_runs SET state = ?, updated_at = ? WHERE run_uuid = ?`).run(JSON.stringify(state), Date.now(), runUuid)
  }

  /**
   * Runs on a cluster still RUNNING whose owning process on this machine is gone: each is taken over by `owner` in one
   * UPDATE, so of two hosts starting at once only one re-attaches it. Returns the runs taken.
   */
  adoptOrphans(owner: { pid: number; host: string }, isAlive: (pid: number) => boolean): string[] {
    const rows = this.db
      .prepare(
        `SELECT r.uuid, r.owner_pid FROM runs r JOIN cluster_runs c ON c.run_uuid = r.uuid
         WHERE r.status = 'RUNNING' AND r.owner_host = ? AND r.owner_pid IS NOT NULL AND r.owner_pid != ?`,
      )
      .all(owner.host, owner.pid) as { uuid: string; owner_pid: number }[]
    const take = this.db.prepare(`UPDATE runs SET owner_pid = ? WHERE uuid = ? AND owner_pid = ? AND status = 'RUNNING'`)
    return rows.filter((row) => !isAlive(row.owner_pid) && take.run(owner.pid, row.uuid, row.owner_pid).changes === 1).map((row) => row.uuid)
  }
}

// Configured SSH boards, and leases that keep two processes (the app and a CLI, say) from measuring on one board at once.
import type { Database } from 'better-sqlite3'

export interface BoardRow {
  id: string
  name: string
  host: string
  port: number
  username: string
  keyPath: string | null
  createdAt: number
}

interface Row {
  id: string
  name: string
  host: string
  port: number
  username: string
  key_path: string | null
  created_at: number
}

export interface LeaseOwner {
  pid: number
  host: string
  runUuid: string | null
}

export class BoardsRepository {
  constructor(private readonly db: Database) {}

  list(): BoardRow[] {
    return (this.db.prepare(`SELECT * FROM boards ORDER BY created_at`).all() as Row[]).map((r) => ({
      id: r.id,
      name: r.name,
      host: r.host,
      port: r.port,
      username: r.username,
      keyPath: r.key_path,
      createdAt: r.created_at,
    }))
  }

  insert(b: BoardRow): void {
    this.db
      .prepare(`INSERT INTO boards (id, name, host, port, username, key_path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(b.id, b.name, b.host, b.port, b.username, b.keyPath, b.createdAt)
  }

  remove(id: string): boolean {
    return this.db.prepare(`DELETE FROM boards WHERE id = ?`).run(id).changes > 0
  }

  /** Takes the board's lease if it is free or its owner process is gone; returns the current owner when it is not. */
  tryLease(boardId: string, owner: LeaseOwner, isAlive: (pid: number) => boolean): LeaseOwner | null {
    return this.db
      .transaction((): LeaseOwner | null => {
        const held = this.db.prepare(`SELECT owner_pid, owner_host, run_uuid FROM board_leases WHERE board_id = ?`).get(boardId) as
          { owner_pid: number; owner_host: string; run_uuid: string | null } | undefined
        if (held && !(held.owner_host === owner.host && !isAlive(held.owner_pid))) {
          return { pid: held.owner_pid, host: held.owner_host, runUuid: held.run_uuid }
        }
        this.db
          .prepare(`INSERT OR REPLACE INTO board_leases (board_id, owner_pid, owner_host, run_uuid, acquired_at) VALUES (?, ?, ?, ?, ?)`)
          .run(boardId, owner.pid, owner.host, owner.runUuid, Date.now())
        return null
      })
      .immediate()
  }

  releaseLease(boardId: string, ownerPid: number): void {
    this.db.prepare(`DELETE FROM board_leases WHERE board_id = ? AND owner_pid = ?`).run(boardId, ownerPid)
  }
}

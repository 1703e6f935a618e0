// Datasets the user imported: one row each, pointing at the copy kept under the data folder.
import type { Database } from 'better-sqlite3'

export interface DatasetRow {
  id: string
  name: string
  format: 'idx' | 'npz' | 'wav-folder'
  path: string
  sampleShape: number[]
  classNames: string[]
  counts: { train: number; validation: number; test: number }
  createdAt: number
}

interface Row {
  id: string
  name: string
  format: DatasetRow['format']
  path: string
  sample_shape: string
  class_names: string
  counts: string
  created_at: number
}

const toDataset = (r: Row): DatasetRow => ({
  id: r.id,
  name: r.name,
  format: r.format,
  path: r.path,
  sampleShape: JSON.parse(r.sample_shape),
  classNames: JSON.parse(r.class_names),
  counts: JSON.parse(r.counts),
  createdAt: r.created_at,
})

export class DatasetsRepository {
  constructor(private readonly db: Database) {}

  list(): DatasetRow[] {
    return (this.db.prepare(`SELECT * FROM datasets ORDER BY created_at`).all() as Row[]).map(toDataset)
  }

  get(id: string): DatasetRow | null {
    const row = this.db.prepare(`SELECT * FROM datasets WHERE id = ?`).get(id) as Row | undefined
    return row ? toDataset(row) : null
  }

  insert(d: DatasetRow): void {
    this.db
      .prepare(`INSERT INTO datasets (id, name, format, path, sample_shape, class_names, counts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(d.id, d.name, d.format, d.path, JSON.stringify(d.sampleShape), JSON.stringify(d.classNames), JSON.stringify(d.counts), d.createdAt)
  }

  remove(id: string): void {
    this.db.prepare(`DELETE FROM datasets WHERE id = ?`).run(id)
  }
}

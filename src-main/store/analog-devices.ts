// Analog boards Benchside has talked to (by the device id they report) and their calibrations, newest first.
import type { Database } from 'better-sqlite3'

export interface AnalogDeviceRow {
  deviceId: string
  firmware: string
  /** The board's INFO answer, as JSON. */
  info: unknown
  port: string
  firstSeen: number
  lastSeen: number
}

export interface AnalogCalibrationRow {
  deviceId: string
  runUuid: string | null
  createdAt: number
  /** The fitted device model (engine/analog's AnalogDeviceModel). */
  model: unknown
  quality: unknown
}

export class AnalogDevicesRepository {
  constructor(private readonly db: Database) {}

  /** Records that a board answered on a port (first time or again). */
  seen(deviceId: string, firmware: string, info: unknown, port: string): void {
    const now = Date.now()
    this.db
      .prepare(
        `INSERT INTO analog_devices (device_id, firmware, info, port, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(device_id) DO UPDATE SET firmware = excluded.firmware, info = excluded.info, port = excluded.port, last_seen = excluded.last_seen`,
      )
      .run(deviceId, firmware, JSON.stringify(info), port, now, now)
  }

  list(): AnalogDeviceRow[] {
    const rows = this.db.prepare(`SELECT device_id, firmware, info, port, first_seen, last_seen FROM analog_devices ORDER BY last_seen DESC`).all() as {
      device_id: string
      firmware: string
      info: string
      port: string
      first_seen: number
      last_seen: number
    }[]
    return rows.map((r) => ({
      deviceId: r.device_id,
      firmware: r.firmware,
      info: JSON.parse(r.info),
      port: r.port,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
    }))
  }

  /** The device last seen on a port (e.g. 'demo'), so a port can stand for its board. */
  deviceOnPort(port: string): string | null {
    const row = this.db.prepare(`SELECT device_id FROM analog_devices WHERE port = ? ORDER BY last_seen DESC LIMIT 1`).get(port) as
      { device_id: string } | undefined
    return row?.device_id ?? null
  }

  addCalibration(deviceId: string, runUuid: string | null, model: unknown, quality: unknown): void {
    this.db
      .prepare(`INSERT INTO analog_calibrations (device_id, run_uuid, created_at, model, quality) VALUES (?, ?, ?, ?, ?)`)
      .run(deviceId, runUuid, Date.now(), JSON.stringify(model), JSON.stringify(quality))
  }

  latestCalibration(deviceId: string): AnalogCalibrationRow | null {
    const row = this.db
      .prepare(`SELECT device_id, run_uuid, created_at, model, quality FROM analog_calibrations WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`)
      .get(deviceId) as { device_id: string; run_uuid: string | null; created_at: number; model: string; quality: string } | undefined
    return row
      ? { deviceId: row.device_id, runUuid: row.run_uuid, createdAt: row.created_at, model: JSON.parse(row.model), quality: JSON.parse(row.quality) }
      : null
  }
}

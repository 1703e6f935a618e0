// Analog room: boards on serial ports and the emulated demo board (connect, status, calibration), and the results of
// hardware-in-the-loop runs.
import { AnalogCalibration, BenchsideError, type AnalogBoardStatus, type AnalogDeviceInfo } from '../contract/index.ts'
import { DEMO_PORT, type AnalogDeviceRegistry } from '../hardware/analog-devices.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import { resultOf } from './results.ts'

const DEMO_NAME = 'Demo analog board (emulated)'

type AnalogMethod = 'listAnalogBoards' | 'connectAnalogBoard' | 'disconnectAnalogBoard' | 'getAnalogCalibration' | 'getHil'

/**
 * The newest calibration of a device — named by its id or by the port it was last seen on ('demo') — validated: a row
 * from an older Benchside that no longer parses is ignored.
 */
export function latestCalibration(store: Store, device: string): AnalogCalibration | null {
  const deviceId = store.analogDevices.latestCalibration(device) ? device : (store.analogDevices.deviceOnPort(device) ?? device)
  const row = store.analogDevices.latestCalibration(deviceId)
  if (!row) return null
  const parsed = AnalogCalibration.safeParse({ deviceId, run: row.runUuid, createdAt: row.createdAt, model: row.model, quality: row.quality })
  return parsed.success ? parsed.data : null
}

export function analogHandlers(store: Store, registry: AnalogDeviceRegistry): HandlersFor<AnalogMethod> {
  const status = async (port: string, name: string, kind: 'serial' | 'emulated'): Promise<AnalogBoardStatus> => {
    const connection = registry.connection(port)
    const error = registry.lastError(port)
    let info: AnalogDeviceInfo | null = null
    let state: AnalogBoardStatus['state'] = error ? 'error' : 'available'
    if (connection) {
      state = connection.board.state === 'connected' ? 'connected' : connection.board.state === 'disconnected' ? 'disconnected' : 'available'
      // The driver keeps the INFO it read on connect: no traffic to the board here.
      info = await connection.board.info()
    }
    const deviceId = connection?.board.id ?? null
    // A board not connected now still shows the calibration of the device last seen on its port.
    const calibration = latestCalibration(store, deviceId ?? port)
    return {
      port,
      name,
      kind,
      state,
      deviceId,
      info,
      error: connection ? null : error,
      calibration: calibration && { createdAt: calibration.createdAt, run: calibration.run, validationRms: calibration.quality.validation.calibrated },
    }
  }

  return {
    listAnalogBoards: async () => {
      const { ports, warning } = await registry.discover()
      const entries: [string, string, 'serial' | 'emulated'][] = ports.map((p) => [p.path, p.name, 'serial'])
      for (const c of registry.connected()) if (c.port !== DEMO_PORT && !ports.some((p) => p.path === c.port)) entries.push([c.port, c.port, 'serial'])
      // The demo board is offered always, so the workbench can be tried without hardware.
      entries.push([DEMO_PORT, DEMO_NAME, 'emulated'])
      return { boards: await Promise.all(entries.map(([port, name, kind]) => status(port, name, kind))), warning }
    },
    connectAnalogBoard: async ({ port }) => {
      const connection = await registry.connect(port)
      const info = await connection.board.info()
      store.analogDevices.seen(info.deviceId, info.firmware, info, port)
      return status(port, port === DEMO_PORT ? DEMO_NAME : port, connection.kind)
    },
    disconnectAnalogBoard: async ({ port }) => {
      const kind = registry.connection(port)?.kind ?? (port === DEMO_PORT ? 'emulated' : 'serial')
      await registry.disconnect(port)
      return status(port, port === DEMO_PORT ? DEMO_NAME : port, kind)
    },
    getAnalogCalibration: ({ device }) => latestCalibration(store, device),
    getHil: ({ run }) => {
      const { uuid, kind, result } = resultOf(store, run, ['hil-evaluate', 'hil-finetune'], 'a hardware-in-the-loop run')
      const status = store.runs.summary(uuid).status
      if (!result) throw new BenchsideError({ code: 'NOT_FOUND', field: 'run', message: `Run ${run} has no results yet (${status.toLowerCase()}).` })
      return { ...result, run: uuid, kind, status }
    },
  }
}

// The analog boards this process is connected to, by port: real serial boards and the emulated demo board (an
// emulator process on a PTY pair, started on connect). One job at a time per board: a FIFO lock per port.
import { listSerialBoards, type SerialPortCandidate } from './serial-discovery.ts'
import { SerialAnalogBoard, type AnalogBoard } from './serial-board.ts'
import { startEmulator, type RunningEmulator } from './emulator/emulator.ts'

export const DEMO_PORT = 'demo'
/** The demo board is always the same (emulated) device, so its calibrations carry over between sessions. */
const DEMO_SEED = 7

export interface AnalogConnection {
  port: string
  kind: 'serial' | 'emulated'
  board: AnalogBoard
  emulator: RunningEmulator | null
}

export interface AnalogPortListing {
  ports: SerialPortCandidate[]
  warning: string | null
}

export class AnalogDeviceRegistry {
  private readonly connections = new Map<string, AnalogConnection>()
  private readonly connecting = new Map<string, Promise<AnalogConnection>>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly errors = new Map<string, string>()

  constructor(private readonly onChange: (port: string) => void = () => {}) {}

  discover(): Promise<AnalogPortListing> {
    return listSerialBoards()
  }

  connection(port: string): AnalogConnection | null {
    return this.connections.get(port) ?? null
  }

  lastError(port: string): string | null {
    return this.errors.get(port) ?? null
  }

  connected(): AnalogConnection[] {
    return [...this.connections.values()]
  }

  /** Opens the board on a port (for 'demo', starts the emulator first); a second call while it opens shares the first. */
  connect(port: string): Promise<AnalogConnection> {
    const existing = this.connections.get(port)
    if (existing?.board.state === 'connected') return Promise.resolve(existing)
    let pending = this.connecting.get(port)
    if (!pending) {
      pending = (existing && existing.board.state === 'disconnected' ? this.revive(existing) : this.open(port)).finally(() => this.connecting.delete(port))
      this.connecting.set(port, pending)
    }
    return pending
  }

  private async open(port: string): Promise<AnalogConnection> {
    let emulator: RunningEmulator | null = null
    try {
      if (port === DEMO_PORT) emulator = await startEmulator({ seed: DEMO_SEED })
      const board = await SerialAnalogBoard.open(emulator ? emulator.path : port)
      const connection: AnalogConnection = { port, kind: emulator ? 'emulated' : 'serial', board, emulator }
      board.onStateChange(() => this.onChange(port))
      this.connections.set(port, connection)
      this.errors.delete(port)
      this.onChange(port)
      return connection
    } catch (error) {
      await emulator?.stop().catch(() => {})
      this.errors.set(port, error instanceof Error ? error.message : String(error))
      this.onChange(port)
      throw error
    }
  }

  /** A board that stopped answering (unplugged, or its emulator died): restart the emulator, then open the port again. */
  private async revive(connection: AnalogConnection): Promise<AnalogConnection> {
    try {
      if (connection.emulator) await connection.emulator.restart()
      await connection.board.reconnect()
      this.errors.delete(connection.port)
      this.onChange(connection.port)
      return connection
    } catch (error) {
      this.errors.set(connection.port, error instanceof Error ? error.message : String(error))
      this.onChange(connection.port)
      throw error
    }
  }

  async disconnect(port: string): Promise<void> {
    const connection = this.connections.get(port)
    if (!connection) return
    this.connections.delete(port)
    await connection.board.close().catch(() => {})
    await connection.emulator?.stop().catch(() => {})
    this.onChange(port)
  }

  /** Runs fn with the board on a port, connecting first when needed; jobs on one board queue in order. */
  async withBoard<T>(port: string, fn: (connection: AnalogConnection) => Promise<T>): Promise<T> {
    const before = this.locks.get(port) ?? Promise.resolve()
    const mine = before.catch(() => {}).then(async () => fn(await this.connect(port)))
    this.locks.set(port, mine)
    try {
      return await mine
    } finally {
      if (this.locks.get(port) === mine) this.locks.delete(port)
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.connections.keys()].map((port) => this.disconnect(port)))
  }
}

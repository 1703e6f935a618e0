// Finds serial ports that may be analog boards: known USB vendor/product ids, serial numbers and paths the user named.
// Never throws: where port listing fails (no udev in a container) the answer is the named paths plus a warning.
import { realpath } from 'node:fs/promises'

/** A USB-serial interface that analog boards are built around; a match is a candidate until it answers HELLO. */
export interface KnownSerialBoard {
  vendorId: string
  productId: string
  name: string
}

export const KNOWN_SERIAL_BOARDS: readonly KnownSerialBoard[] = [
  { vendorId: '0483', productId: '5740', name: 'STM32 virtual COM port' },
  { vendorId: '2e8a', productId: '000a', name: 'Raspberry Pi RP2040 USB serial' },
  { vendorId: '0403', productId: '6001', name: 'FTDI FT232R USB-UART' },
  { vendorId: '0403', productId: '6010', name: 'FTDI FT2232 USB-UART' },
  { vendorId: '0403', productId: '6014', name: 'FTDI FT232H USB-UART' },
  { vendorId: '10c4', productId: 'ea60', name: 'Silicon Labs CP210x USB-UART' },
  { vendorId: '1a86', productId: '7523', name: 'WCH CH340 USB-UART' },
  { vendorId: '303a', productId: '1001', name: 'Espressif USB serial/JTAG' },
]

/** What SerialPort.list() reports per port (fields the platform does not know are undefined). */
export interface ListedPort {
  path: string
  manufacturer?: string | undefined
  serialNumber?: string | undefined
  vendorId?: string | undefined
  productId?: string | undefined
}

export type MatchReason = 'known-board' | 'serial-number' | 'path'

export interface SerialPortCandidate {
  path: string
  /** The known board's name, else the manufacturer, else the path. */
  name: string
  vendorId: string | null
  productId: string | null
  serialNumber: string | null
  manufacturer: string | null
  matchedBy: MatchReason
  /** False for a named path the port listing did not show (a PTY, or listing failed): it is tried as given. */
  listed: boolean
}

export interface SerialDiscoveryOptions {
  /** Injected for tests; SerialPort.list by default. */
  list?: () => Promise<readonly ListedPort[]>
  knownBoards?: readonly KnownSerialBoard[]
  /** Serial numbers of boards the user registered: matched whatever the USB ids. */
  serialNumbers?: readonly string[]
  /** Paths the user named (e.g. /dev/serial/by-id/…, a PTY): always candidates. */
  paths?: readonly string[]
}

/** Lower-case hex without 0x and zero-padded to 4 digits, so '0x0483', '483' and '0483' compare equal. */
export function normalizeUsbId(id: string | undefined | null): string | null {
  if (!id) return null
  const hex = id.trim().toLowerCase().replace(/^0x/, '')
  return /^[0-9a-f]{1,4}$/.test(hex) ? hex.padStart(4, '0') : null
}

async function resolved(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    return path
  }
}

export async function listSerialBoards(options: SerialDiscoveryOptions = {}): Promise<{ ports: SerialPortCandidate[]; warning: string | null }> {
  // serialport is loaded on first use: every host process imports this module, few of them list ports.
  const list = options.list ?? (async () => (await import('serialport')).SerialPort.list())
  const known = options.knownBoards ?? KNOWN_SERIAL_BOARDS
  const serials = new Set((options.serialNumbers ?? []).map((s) => s.trim()).filter((s) => s.length > 0))
  const named = options.paths ?? []
  let listed: readonly ListedPort[] = []
  let warning: string | null = null
  try {
    listed = await list()
  } catch (error) {
    warning =
      `Serial ports could not be listed (${error instanceof Error ? error.message : String(error)}), so boards are not found automatically; ` +
      'this happens where udev is not available (e.g. in a container). Name the board’s port path instead: “Another port” under Analog boards in Devices, or --board <path> on the command line.'
  }

  const namedReal = new Map<string, string>()
  for (const path of named) namedReal.set(await resolved(path), path)
  const ports: SerialPortCandidate[] = []
  const seen = new Set<string>()
  for (const port of listed) {
    const vendorId = normalizeUsbId(port.vendorId)
    const productId = normalizeUsbId(port.productId)
    const serialNumber = port.serialNumber?.trim() || null
    const model = known.find((k) => normalizeUsbId(k.vendorId) === vendorId && normalizeUsbId(k.productId) === productId)
    const real = await resolved(port.path)
    const namedAs = namedReal.get(real) ?? namedReal.get(port.path)
    const matchedBy: MatchReason | null = namedAs ? 'path' : serialNumber && serials.has(serialNumber) ? 'serial-number' : model ? 'known-board' : null
    if (!matchedBy) continue
    seen.add(real)
    ports.push({
      // Keep the user's spelling (a stable /dev/serial/by-id link) when they named this port.
      path: namedAs ?? port.path,
      name: model?.name ?? port.manufacturer ?? port.path,
      vendorId,
      productId,
      serialNumber,
      manufacturer: port.manufacturer ?? null,
      matchedBy,
      listed: true,
    })
  }
  for (const [real, path] of namedReal) {
    if (seen.has(real)) continue
    seen.add(real)
    ports.push({ path, name: path, vendorId: null, productId: null, serialNumber: null, manufacturer: null, matchedBy: 'path', listed: false })
  }
  return { ports, warning }
}

import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { KNOWN_SERIAL_BOARDS, listSerialBoards, normalizeUsbId, type ListedPort } from '../../../src-main/hardware/serial-discovery.ts'

const ports: ListedPort[] = [
  { path: '/dev/ttyACM0', manufacturer: 'STMicroelectronics', serialNumber: '3471384B3033', vendorId: '0483', productId: '5740' },
  { path: '/dev/ttyUSB0', manufacturer: 'FTDI', serialNumber: 'A50285BI', vendorId: '0403', productId: '6001' },
  { path: '/dev/ttyUSB1', manufacturer: 'Logitech', serialNumber: 'LAB-BOARD-7', vendorId: '046d', productId: 'c52b' },
  { path: '/dev/ttyS0' },
]
const list = async () => ports

describe('serial board discovery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'benchside-discovery-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('normalises USB ids so platforms that spell them differently still match', () => {
    expect(normalizeUsbId('0x0483')).toBe('0483')
    expect(normalizeUsbId('483')).toBe('0483')
    expect(normalizeUsbId('EA60')).toBe('ea60')
    expect(normalizeUsbId('usb')).toBeNull()
    expect(normalizeUsbId(undefined)).toBeNull()
  })

  it('matches ports by known vendor and product id, in listing order', async () => {
    const { ports: found, warning } = await listSerialBoards({ list })
    expect(warning).toBeNull()
    expect(found.map((p) => [p.path, p.matchedBy, p.name])).toEqual([
      ['/dev/ttyACM0', 'known-board', 'STM32 virtual COM port'],
      ['/dev/ttyUSB0', 'known-board', 'FTDI FT232R USB-UART'],
    ])
    expect(found[0]).toMatchObject({ vendorId: '0483', productId: '5740', serialNumber: '3471384B3033', manufacturer: 'STMicroelectronics', listed: true })
  })

  it('compares ids case-insensitively against a custom known-boards list', async () => {
    const { ports: found } = await listSerialBoards({
      list: async () => [{ path: 'COM7', vendorId: '1A86', productId: '7523', serialNumber: undefined }],
      knownBoards: [{ vendorId: '0x1a86', productId: '0x7523', name: 'Lab CH340 board' }],
    })
    expect(found).toEqual([
      {
        path: 'COM7',
        name: 'Lab CH340 board',
        vendorId: '1a86',
        productId: '7523',
        serialNumber: null,
        manufacturer: null,
        matchedBy: 'known-board',
        listed: true,
      },
    ])
  })

  it('matches a registered serial number whatever the USB ids', async () => {
    const { ports: found } = await listSerialBoards({ list, serialNumbers: ['LAB-BOARD-7'] })
    expect(found.map((p) => [p.path, p.matchedBy])).toEqual([
      ['/dev/ttyACM0', 'known-board'],
      ['/dev/ttyUSB0', 'known-board'],
      ['/dev/ttyUSB1', 'serial-number'],
    ])
    expect(found[2]?.name).toBe('Logitech')
  })

  it('keeps a path the user named, by its own spelling, even when the listing does not show it', async () => {
    // A stable by-id link resolves to a listed port; a PTY made by socat is never listed.
    const target = join(dir, 'ttyUSB9')
    writeFileSync(target, '')
    const link = join(dir, 'usb-Lab_Board_42-if00')
    symlinkSync(target, link)
    const { ports: found } = await listSerialBoards({
      list: async () => [...ports, { path: target, vendorId: 'ffff', productId: '0001' }],
      paths: [link, '/tmp/benchside-pty-7'],
    })
    expect(found.map((p) => [p.path, p.matchedBy, p.listed])).toEqual([
      ['/dev/ttyACM0', 'known-board', true],
      ['/dev/ttyUSB0', 'known-board', true],
      [link, 'path', true],
      ['/tmp/benchside-pty-7', 'path', false],
    ])
  })

  it('answers [] and a warning when listing rejects (no udev), and still offers the named paths', async () => {
    const failing = async (): Promise<ListedPort[]> => {
      throw new Error('udev is not available')
    }
    const none = await listSerialBoards({ list: failing })
    expect(none.ports).toEqual([])
    expect(none.warning).toMatch(
      /could not be listed \(udev is not available\).*Name the board’s port path instead: “Another port” under Analog boards in Devices, or --board <path>/,
    )
    // There are no "board settings" to point to.
    expect(none.warning).not.toMatch(/settings/)
    const named = await listSerialBoards({ list: failing, paths: ['/dev/ttyACM3'] })
    expect(named.ports.map((p) => [p.path, p.matchedBy, p.listed])).toEqual([['/dev/ttyACM3', 'path', false]])
    expect(named.warning).not.toBeNull()
  })

  it('lists real ports without throwing, whatever this machine has', async () => {
    const real = await listSerialBoards()
    expect(Array.isArray(real.ports)).toBe(true)
    expect(real.warning === null || typeof real.warning === 'string').toBe(true)
    expect(KNOWN_SERIAL_BOARDS.length).toBeGreaterThan(0)
  })
})

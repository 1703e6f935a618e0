// The demo board's PTY pair: Benchside's helper built on first use (cached per source hash) relaying real PTYs, socat as
// the fallback, and the one-sentence answers where neither can be had.
import { closeSync, constants, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SerialPort } from 'serialport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator } from '../../../src-main/hardware/emulator/emulator.ts'
import {
  buildPtyHelper,
  helperBinaryPath,
  helperSource,
  NO_PTY_ON_WINDOWS,
  NO_PTY_PAIR,
  openPtyPair,
  ptyPairSupport,
  type PtyPair,
} from '../../../src-main/hardware/emulator/pty-pair.ts'
import { SerialAnalogBoard } from '../../../src-main/hardware/serial-board.ts'
import { requires } from '../../helpers/components.ts'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Everything a non-blocking descriptor holds right now (after giving the relay a moment). */
async function drain(fd: number, settleMs = 300): Promise<number[]> {
  await pause(settleMs)
  const bytes: number[] = []
  const buffer = Buffer.alloc(4096)
  for (;;) {
    try {
      const n = readSync(fd, buffer)
      if (n <= 0) return bytes
      bytes.push(...buffer.subarray(0, n))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return bytes
      throw error
    }
  }
}

function openDevice(path: string): number {
  return openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
}

function write(port: SerialPort, bytes: number[]): Promise<void> {
  return new Promise((resolve, reject) => port.write(Buffer.from(bytes), (error) => (error ? reject(error) : port.drain(() => resolve()))))
}

describe("Benchside's PTY helper", requires('cc'), () => {
  let work: string
  let cacheDir: string
  let noPrograms: NodeJS.ProcessEnv

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'benchside-pty-pair-'))
    cacheDir = join(work, 'cache')
    noPrograms = { PATH: join(work, 'empty-path') }
  })
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('is built on first use into the cache folder, one build per source hash, and reused after', async () => {
    const binary = helperBinaryPath(cacheDir)
    expect(binary).toBe(join(cacheDir, 'pty-pair', helperSource().version, 'benchside-pty-pair'))
    expect(existsSync(binary)).toBe(false)
    expect(ptyPairSupport({ cacheDir })).toMatchObject({ kind: 'helper', problem: null, detail: expect.stringContaining('to be built') })
    // Two callers at once share one compile.
    const [first, second] = await Promise.all([buildPtyHelper({ cacheDir }), buildPtyHelper({ cacheDir })])
    expect(first).toBe(binary)
    expect(second).toBe(binary)
    const builtAt = statSync(binary).mtimeMs
    expect(await buildPtyHelper({ cacheDir })).toBe(binary)
    expect(statSync(binary).mtimeMs).toBe(builtAt)
    // Built, it needs no compiler any more.
    expect(ptyPairSupport({ cacheDir, env: noPrograms })).toMatchObject({ kind: 'helper', detail: expect.stringContaining(`built at ${binary}`) })
  })

  describe('a pair', () => {
    let pair: PtyPair
    let host: SerialPort
    const hostPath = () => join(work, 'host')
    const devicePath = () => join(work, 'device')

    beforeAll(async () => {
      pair = await openPtyPair(hostPath(), devicePath(), { cacheDir, env: noPrograms })
      host = new SerialPort({ path: hostPath(), baudRate: 115200, autoOpen: false })
      await new Promise<void>((resolve, reject) => host.open((error) => (error ? reject(error) : resolve())))
    })
    afterAll(async () => {
      await new Promise<void>((resolve) => (host?.isOpen ? host.close(() => resolve()) : resolve()))
      pair?.child.kill('SIGTERM')
    })

    it('relays every byte value both ways, untranslated, between two real PTYs', async () => {
      expect(pair.kind).toBe('helper')
      const device = openDevice(devicePath())
      try {
        const all = Array.from({ length: 1024 }, (_, i) => i % 256)
        await write(host, all)
        expect(await drain(device)).toEqual(all)
        const received: number[] = []
        host.on('data', (chunk: Buffer) => received.push(...chunk))
        writeSync(device, Buffer.from(all))
        await pause(300)
        expect(received).toEqual(all)
        host.removeAllListeners('data')
      } finally {
        closeSync(device)
      }
    })

    it('keeps what waits for a closed device end, and drops it on flush, as a rebooted board would', async () => {
      await write(host, [1, 2, 3])
      let device = openDevice(devicePath())
      expect(await drain(device)).toEqual([1, 2, 3])
      closeSync(device)

      await write(host, [4, 5, 6])
      await pause(200)
      await pair.flush()
      device = openDevice(devicePath())
      try {
        expect(await drain(device)).toEqual([])
        await write(host, [7])
        expect(await drain(device)).toEqual([7])
      } finally {
        closeSync(device)
      }
    })

    it('ends when its launcher closes its stdin', async () => {
      const gone = new Promise((resolve) => pair.child.once('exit', resolve))
      pair.child.stdin!.end()
      await gone
      expect(pair.child.exitCode).toBe(0)
    })
  })

  it('says which compiler failed when the helper does not build, and makes no links', async () => {
    const fresh = join(work, 'cache-broken')
    const env = { PATH: process.env.PATH, CC: 'false' }
    await expect(openPtyPair(join(work, 'h2'), join(work, 'd2'), { cacheDir: fresh, env, choice: 'helper' })).rejects.toThrow(
      /^Benchside's PTY helper did not compile with \S*false: exit code 1\.$/,
    )
    expect(existsSync(join(work, 'h2'))).toBe(false)
    expect(existsSync(helperBinaryPath(fresh))).toBe(false)
  })
})

describe('PTY pair fallbacks and refusals', () => {
  it('runs the emulator on socat when asked, and it answers as on the helper', requires('socat'), async () => {
    const emulator = await startEmulator({ seed: 5, pty: 'socat' })
    try {
      expect(emulator.pty).toBe('socat')
      const board = await SerialAnalogBoard.open(emulator.path)
      expect((await board.info()).deviceId).toBe('EMU-00000005')
      await board.close()
    } finally {
      await emulator.stop()
    }
  })

  it('says in one sentence that neither a compiler nor socat is here, and makes no links', async () => {
    const work = mkdtempSync(join(tmpdir(), 'benchside-no-pty-'))
    try {
      const options = { cacheDir: join(work, 'cache'), env: { PATH: join(work, 'nothing') } }
      expect(ptyPairSupport(options)).toEqual({ kind: null, detail: 'neither a C compiler nor socat', problem: NO_PTY_PAIR })
      await expect(openPtyPair(join(work, 'host'), join(work, 'device'), options)).rejects.toThrow(NO_PTY_PAIR)
      expect(existsSync(join(work, 'host'))).toBe(false)
      expect(NO_PTY_PAIR).toMatch(/^The demo board needs a pseudo-terminal pair, .*socat.*\.$/)
      expect(NO_PTY_PAIR.slice(0, -1)).not.toMatch(/\.\s/)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })

  it('says in one sentence that Windows has no pseudo-terminals', () => {
    expect(ptyPairSupport({ platform: 'win32' })).toMatchObject({ kind: null, problem: NO_PTY_ON_WINDOWS })
    expect(NO_PTY_ON_WINDOWS.slice(0, -1)).not.toMatch(/\.\s/)
  })
})

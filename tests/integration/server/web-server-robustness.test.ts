// Web mode must never die of one bad input. The server runs in its own process, so a crash shows as a dead process;
// after every case it must still answer appInfo. The fuzz is seeded and bounded: the same inputs on every run.
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { methods } from '../../../src-main/contract/index.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { tempHome } from '../../helpers/temp-home.ts'
import { http, rawRequest, startServerProcess, stillServing, stopServerProcess, type ServerProcess } from '../../helpers/web-server-process.ts'

const MiB = 1024 * 1024

describe('web server robustness (server in its own process)', () => {
  const home = tempHome()
  let server: ServerProcess | null = null

  // One server for the file, started again only when a case killed it (and that case has failed already).
  beforeEach(async () => {
    if (!server || server.child.exitCode !== null || server.child.signalCode !== null) server = await startServerProcess(home.dir)
  }, 60_000)
  afterEach(async () => {
    const problem = await stillServing(server!)
    expect(problem, problem ?? '').toBeNull()
  })
  afterAll(async () => {
    await stopServerProcess(server?.child)
    home.remove()
  })

  const headers = () => ({ Authorization: `Bearer ${server!.token}`, 'Content-Type': 'application/json' })

  it('answers a well-formed request (control for the cases below)', async () => {
    const answer = await rawRequest(server!.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nConnection: close\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
  })

  it('answers an unparsable request target with 400, before any token check', async () => {
    const answer = await rawRequest(server!.port, `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nConnection: close\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
  })

  it('answers an unparsable WebSocket upgrade target with 400', async () => {
    const answer = await rawRequest(server!.port, upgradeRequest(server!, 'http://['))
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
  })

  it('answers a malformed %-escape in the API method name with 400', async () => {
    const answer = await rawRequest(
      server!.port,
      `POST /api/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nAuthorization: Bearer ${server!.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    )
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
  })

  it('answers a body declared larger than 16 MiB with 413 at once, without reading it', async () => {
    const answer = await rawRequest(
      server!.port,
      `POST /api/appInfo HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nAuthorization: Bearer ${server!.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${17 * MiB}\r\n\r\n{`,
    )
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
  })

  it('answers a chunked body that grows past 16 MiB with 413', async () => {
    const chunk = Buffer.alloc(MiB, 0x20)
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(server!.port, '127.0.0.1')
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (text: string) => (received += text))
      socket.on('close', () => resolve(received))
      socket.on('error', () => resolve(received))
      socket.write(
        `POST /api/appInfo HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nAuthorization: Bearer ${server!.token}\r\n` +
          `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      )
      // 18 chunks of 1 MiB; the server answers and closes part way, so later writes may fail, which is the point.
      for (let i = 0; i < 18 && !socket.destroyed; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`)
      setTimeout(() => socket.destroy(), 20_000)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
  })

  it('answers deeply nested JSON bodies with a 4xx, over HTTP and the WebSocket', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
    for (const body of [deep(200_000), `{"run":${deep(50_000)}}`, `{"runs":[${Array.from({ length: 5000 }, () => '{"a":[1,{"b":[]}]}').join(',')}]}`]) {
      const reply = await http(server!.port, { method: 'POST', path: '/api/getRun', headers: headers(), body })
      expect(reply.status, reply.body.slice(0, 200)).toBeGreaterThanOrEqual(400)
      expect(reply.status).toBeLessThan(500)
    }
    const socket = await openRawSocket(server!)
    socket.write(frame(0x1, Buffer.from(`{"id":1,"method":"getRun","args":${deep(100_000)}}`)))
    const reply = await readUntil(socket, (text) => text.includes('"id":1'))
    expect(reply).toMatch(/"ok":false/)
    socket.destroy()
  })

  // Each case breaks RFC 6455 in one way; ws closes that socket with a protocol error and the server keeps serving.
  const badFrames: [string, (payload: Buffer) => Buffer][] = [
    ['a frame with RSV1 set (no extension was negotiated)', (p) => frame(0x1, p, { rsv1: true })],
    ['an unmasked client frame', (p) => frame(0x1, p, { masked: false })],
    ['a text frame that is not UTF-8', () => frame(0x1, Buffer.from([0xc3, 0x28, 0xa0, 0xa1]))],
    ['a frame declaring 2^40 bytes', () => frameHeader(0x2, 2 ** 40)],
    ['a message over the 16 MiB limit', () => frame(0x2, Buffer.alloc(16 * MiB + 1, 1))],
    ['a reserved opcode', (p) => frame(0x3, p)],
    ['a ping longer than 125 bytes', () => frame(0x9, Buffer.alloc(200, 7))],
    ['a continuation frame with nothing to continue', (p) => frame(0x0, p)],
    ['a close frame with an invalid code', () => frame(0x8, Buffer.from([0x03, 0xe7]))],
  ]
  for (const [name, build] of badFrames) {
    it(`closes a WebSocket that sends ${name}, and keeps serving`, async () => {
      const socket = await openRawSocket(server!)
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
      socket.on('error', () => {})
      socket.write(build(Buffer.from('{"id":1,"method":"appInfo","args":{}}')))
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the socket stayed open')), 10_000))])
    })
  }

  it('survives 400 seeded random contract calls over HTTP and the WebSocket, and random bytes after a handshake', async () => {
    const random = seededRandom(20261204)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
    const names = Object.keys(methods).filter((name) => !OUTSIDE_THE_DATA_FOLDER.has(name))
    const socket = await openRawSocket(server!)
    socket.on('error', () => {})
    let statuses = 0
    for (let i = 0; i < 400; i++) {
      // A made-up name now and then; a URL path cannot carry a lone surrogate, so those stay in the arguments.
      const method = random() < 0.05 ? randomString(random, 12).replace(/\p{Cs}/gu, '?') : pick(names)
      const args = randomArgs(random, 0)
      if (i % 2 === 0) {
        const reply = await http(server!.port, { method: 'POST', path: `/api/${encodeURIComponent(method)}`, headers: headers(), body: JSON.stringify(args) })
        // Bad input is the caller's mistake: a 4xx, or 200 where the random arguments happened to be valid; never a 5xx.
        expect(reply.status, `${method} ${JSON.stringify(args).slice(0, 300)} → ${reply.body.slice(0, 300)}`).toBeLessThan(500)
        statuses++
      } else socket.write(frame(0x1, Buffer.from(JSON.stringify({ id: i, method, args }))))
    }
    const last = await readUntil(socket, (text) => text.includes('"id":399'))
    expect(last).toContain('"id":399')
    expect(statuses).toBe(200)
    // Garbage on an open socket ends that socket only.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write(Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256))))
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))])
    socket.destroy()
  }, 120_000)
})

/** Methods that reach boards, the network, other processes or files outside the data folder: not for random input. */
const OUTSIDE_THE_DATA_FOLDER = new Set([
  'startJob',
  'resumeJob',
  'importDataset',
  'importModel',
  'exportModel',
  'measureOperation',
  'addBoard',
  'testBoard',
  'connectAnalogBoard',
  'doctor',
])

function randomString(random: () => number, maxLength: number): string {
  const alphabet = ['a', 'Z', '0', '-', '_', ' ', '.', '/', '\\', '"', "'", '%', '\u0000', '\ud800', '😀', 'é', '\n', ';', '*']
  return Array.from({ length: Math.floor(random() * maxLength) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
}

/** Arguments that look like the contract's (its usual keys) with values of any type, size and nesting. */
function randomArgs(random: () => number, depth: number): unknown {
  const keys = [
    'run',
    'runs',
    'tag',
    'text',
    'kind',
    'status',
    'limit',
    'since',
    'model',
    'board',
    'port',
    'path',
    'where',
    'sort',
    'columns',
    'id',
    '__proto__',
    'constructor',
  ]
  const r = random()
  if (depth > 4 || r < 0.15) return randomValue(random)
  if (r < 0.25) return Array.from({ length: Math.floor(random() * 4) }, () => randomArgs(random, depth + 1))
  const entries = Array.from({ length: Math.floor(random() * 5) }, () => [keys[Math.floor(random() * keys.length)]!, randomArgs(random, depth + 1)] as const)
  return Object.fromEntries(entries)
}

function randomValue(random: () => number): unknown {
  const values: (() => unknown)[] = [
    () => null,
    () => random() < 0.5,
    () => Math.floor(random() * 2 ** 31) - 2 ** 30,
    () => (random() - 0.5) * 1e308,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => -0,
    () => randomString(random, 40),
    () => 'x'.repeat(Math.floor(random() * 100_000)),
    () => ({ metrics: Math.floor(random() * 1e12) }),
    () => ({ by: { kind: 'metric', key: randomString(random, 10) }, direction: 'asc' }),
  ]
  return values[Math.floor(random() * values.length)]!()
}

function upgradeRequest(server: ServerProcess, target: string): string {
  return (
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://127.0.0.1:${server.port}\r\n\r\n`
  )
}

/** A TCP socket that completed the WebSocket handshake with the right token and origin, for hand-made frames. */
async function openRawSocket(server: ServerProcess): Promise<Socket> {
  const socket = connect(server.port, '127.0.0.1')
  socket.write(upgradeRequest(server, `/ws?token=${server.token}`))
  const head = await readUntil(socket, (text) => text.includes('\r\n\r\n'))
  const accept = createHash('sha1').update('dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
  if (!head.startsWith('HTTP/1.1 101 ') || !head.includes(accept)) throw new Error(`the handshake failed: ${head}`)
  return socket
}

/** Collects what the socket receives (as latin1 text) until `done` says so; rejects after 30 s. */
function readUntil(socket: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => finish(new Error(`nothing matched within 30 s; received: ${text.slice(0, 300)}`)), 30_000)
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (done(text)) finish(null)
    }
    const finish = (error: Error | null) => {
      clearTimeout(timer)
      socket.off('data', onData)
      if (error) reject(error)
      else resolve(text)
    }
    socket.on('data', onData)
  })
}

function frameHeader(opcode: number, length: number, options: { rsv1?: boolean; masked?: boolean } = {}): Buffer {
  const first = 0x80 | (options.rsv1 ? 0x40 : 0) | opcode
  const mask = options.masked === false ? 0 : 0x80
  if (length < 126) return Buffer.from([first, mask | length])
  if (length < 65536) return Buffer.from([first, mask | 126, length >> 8, length & 0xff])
  const header = Buffer.alloc(10)
  header[0] = first
  header[1] = mask | 127
  header.writeBigUInt64BE(BigInt(length), 2)
  return header
}

/** One WebSocket frame as a client sends it: masked (RFC 6455 requires it) unless told otherwise. */
function frame(opcode: number, payload: Buffer, options: { rsv1?: boolean; masked?: boolean } = {}): Buffer {
  const header = frameHeader(opcode, payload.length, options)
  if (options.masked === false) return Buffer.concat([header, payload])
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78])
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!))
  return Buffer.concat([header, key, masked])
}

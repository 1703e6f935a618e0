import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  FrameDecoder,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  ProtocolError,
  cobsDecode,
  cobsEncode,
  crc16,
  decodeFrame,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  frameBytes,
  type Decoded,
  type Frame,
  type Message,
} from '../../../src-main/hardware/analog-protocol/index.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'))

/** Flips the bits of `mask` in one byte, as line noise would. */
function flipBits(bytes: Uint8Array, index: number, mask: number): void {
  const byte = bytes[index]
  if (byte === undefined) throw new Error(`Byte ${index} is past the end of ${bytes.length} bytes.`)
  bytes[index] = byte ^ mask
}

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (error instanceof ProtocolError) return error.reason
    throw error
  }
  return 'no error'
}

// ---- arbitraries: one per message type, every field anywhere in its wire range ----

const u8 = fc.integer({ min: 0, max: 0xff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const text = fc.string({ unit: 'binary', maxLength: 60 })
const finiteF32 = fc.float({ noNaN: true, noDefaultInfinity: true })
const setKey = fc.constantFrom('gain' as const, 'repeats' as const, 'order' as const)
const probe = fc.constantFrom('offset' as const, 'reference' as const)
const errorCode = fc.constantFrom(
  'BAD_CRC' as const,
  'MALFORMED' as const,
  'UNKNOWN_TYPE' as const,
  'BAD_SLOT' as const,
  'BAD_SHAPE' as const,
  'OUT_OF_RANGE' as const,
  'BUSY' as const,
  'TOO_LARGE' as const,
  'NOT_LOADED' as const,
  'UNSUPPORTED_VERSION' as const,
  'UNSUPPORTED' as const,
)
const int8s = (maxLength: number) => fc.int8Array({ maxLength })

const messageArbitraries: Record<Message['type'], fc.Arbitrary<Message>> = {
  hello: fc.constant({ type: 'hello' }),
  reset: fc.constant({ type: 'reset' }),
  resetDone: fc.constant({ type: 'resetDone' }),
  info: fc.record({
    type: fc.constant('info' as const),
    protocolVersion: u8,
    deviceId: text,
    firmware: text,
    rows: u16,
    cols: u16,
    inputBits: u8,
    weightBits: u8,
    adcBits: u8,
    maxBatch: u16,
    slots: u8,
    maxPayload: u16,
    features: fc.record({ ordering: fc.boolean(), repeats: fc.boolean(), calibration: fc.boolean() }),
  }),
  loadWeights: fc.record({ type: fc.constant('loadWeights' as const), slot: u8, rows: u16, cols: u16, offset: u32, weights: int8s(600) }),
  loaded: fc.record({ type: fc.constant('loaded' as const), slot: u8, received: u32, complete: fc.boolean() }),
  run: fc
    .record({ slot: u8, count: fc.integer({ min: 0, max: 20 }), rows: fc.integer({ min: 0, max: 40 }), repeats: u8 })
    .chain((head) =>
      fc.uint8Array({ minLength: head.count * head.rows, maxLength: head.count * head.rows }).map((inputs) => ({ type: 'run' as const, ...head, inputs })),
    ),
  result: fc
    .record({ slot: u8, count: fc.integer({ min: 0, max: 10 }), repeats: fc.integer({ min: 0, max: 4 }), cols: fc.integer({ min: 0, max: 30 }) })
    .chain((head) => {
      const length = head.count * head.repeats * head.cols
      return fc.int8Array({ minLength: length, maxLength: length }).map((codes) => ({ type: 'result' as const, ...head, codes }))
    }),
  set: fc.record({ type: fc.constant('set' as const), key: setKey, value: finiteF32 }),
  setDone: fc.record({ type: fc.constant('setDone' as const), key: setKey, value: finiteF32 }),
  calibrate: fc.record({ type: fc.constant('calibrate' as const), probe, repeats: u16 }),
  calibration: fc
    .record({ probe, repeats: u16, cols: fc.integer({ min: 0, max: 40 }) })
    .chain((head) =>
      fc
        .tuple(
          fc.float32Array({ noNaN: true, minLength: head.cols, maxLength: head.cols }),
          fc.float32Array({ noNaN: true, minLength: head.cols, maxLength: head.cols }),
        )
        .map(([mean, std]) => ({ type: 'calibration' as const, ...head, mean, std })),
    ),
  error: fc.record({ type: fc.constant('error' as const), code: errorCode, message: text }),
}

const anyMessage = fc.oneof(...Object.values(messageArbitraries))
const anyFrame: fc.Arbitrary<Frame> = fc.record({ seq: u16, message: anyMessage })

/** Cuts a byte stream at random places, like a serial port delivering it in chunks. */
function chunked(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let last = 0
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(last, point))
    last = point
  }
  return chunks
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Decoded[] {
  return chunks.flatMap((chunk) => decoder.push(chunk))
}

describe('crc16', () => {
  it('is CRC-16/CCITT-FALSE', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1)
    expect(crc16(new Uint8Array(0))).toBe(0xffff)
  })
})

describe('COBS', () => {
  it('matches known encodings', () => {
    expect(hex(cobsEncode(new Uint8Array(0)))).toBe('01')
    expect(hex(cobsEncode(fromHex('00')))).toBe('0101')
    expect(hex(cobsEncode(fromHex('11220033')))).toBe('0311220233')
    const run254 = new Uint8Array(254).fill(7)
    expect(hex(cobsEncode(run254))).toBe('ff' + '07'.repeat(254))
    expect(hex(cobsEncode(new Uint8Array(255).fill(7)))).toBe('ff' + '07'.repeat(254) + '0207')
    expect(hex(cobsEncode(concat([run254, fromHex('00')])))).toBe('ff' + '07'.repeat(254) + '0101')
  })

  it('round-trips any bytes and never emits 0x00', () => {
    // Mostly non-zero bytes so runs cross the 254-byte block limit.
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 1200 }),
      fc.uint8Array({ maxLength: 1200 }).map((b) => b.map((x) => (x % 16 === 0 ? 0 : x | 1))),
    )
    fc.assert(
      fc.property(bytes, (data) => {
        const encoded = cobsEncode(data)
        expect(encoded.includes(0)).toBe(false)
        expect(encoded.length).toBeLessThanOrEqual(data.length + Math.max(1, Math.ceil(data.length / 254)))
        expect(hex(cobsDecode(encoded))).toBe(hex(data))
      }),
    )
  })

  it('rejects an empty block, an inner 0x00 and a code pointing past the end', () => {
    expect(reasonOf(() => cobsDecode(new Uint8Array(0)))).toBe('cobs')
    expect(reasonOf(() => cobsDecode(fromHex('030100')))).toBe('cobs')
    expect(reasonOf(() => cobsDecode(fromHex('051122')))).toBe('cobs')
  })
})

describe('messages', () => {
  for (const [type, arbitrary] of Object.entries(messageArbitraries)) {
    it(`round-trips ${type} through encodeFrame and a FrameDecoder fed in random chunks`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ seq: u16, message: arbitrary }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.nat(), { maxLength: 12 }),
          (frames, cuts) => {
            const decoder = new FrameDecoder()
            const decoded = decodeAll(decoder, chunked(concat(frames.map(encodeFrame)), cuts))
            expect(decoded).toEqual(frames.map((frame) => ({ ok: true, frame })))
          },
        ),
        { numRuns: 60 },
      )
    })
  }

  it('round-trips mixed messages in one stream, with flush delimiters between them', () => {
    fc.assert(
      fc.property(fc.array(anyFrame, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const stream = concat(frames.flatMap((frame) => [new Uint8Array([0]), encodeFrame(frame)]))
        expect(decodeAll(new FrameDecoder(), chunked(stream, cuts))).toEqual(frames.map((frame) => ({ ok: true, frame })))
      }),
      { numRuns: 200 },
    )
  })

  it('matches the worked examples in docs/analog-board-protocol.md', () => {
    expect(hex(encodeFrame({ seq: 1, message: { type: 'hello' } }))).toBe('04010101010103559700')
    expect(hex(encodeFrame({ seq: 0x0102, message: { type: 'set', key: 'gain', value: 2 } }))).toBe('060104020105020101010440f5bb00')
    const run = encodeFrame({ seq: 2, message: { type: 'run', slot: 3, count: 2, rows: 3, repeats: 1, inputs: new Uint8Array([0, 31, 5, 1, 0, 16]) } })
    expect(hex(run)).toBe('04010302020c03030202030201041f05010410f51a00')
    const result: Frame = { seq: 2, message: { type: 'result', slot: 3, count: 2, repeats: 1, cols: 2, codes: new Int8Array([12, -3, 0, 127]) } }
    expect(hex(encodeFrame(result))).toBe('04018302020a030302030102030cfd047f59bb00')
    expect(decodeFrame(fromHex('04018302020a030302030102030cfd047f59bb'))).toEqual(result)
  })

  it('refuses values a field cannot hold', () => {
    expect(reasonOf(() => encodeMessage({ type: 'loaded', slot: 256, received: 0, complete: false }))).toBe('malformed')
    expect(reasonOf(() => encodeMessage({ type: 'run', slot: 0, count: 2, rows: 3, repeats: 1, inputs: new Uint8Array(5) }))).toBe('malformed')
    expect(reasonOf(() => encodeMessage({ type: 'set', key: 'gain', value: Number.NaN }))).toBe('malformed')
    expect(reasonOf(() => encodeMessage({ type: 'set', key: 'gain', value: 1e39 }))).toBe('malformed')
    expect(reasonOf(() => encodeMessage({ type: 'error', code: 'BUSY', message: 'x'.repeat(256) }))).toBe('malformed')
    expect(reasonOf(() => encodeMessage({ type: 'error', code: 'BUSY', message: '\ud800' }))).toBe('malformed')
    expect(reasonOf(() => encodeMessage({ type: 'loadWeights', slot: 0, rows: 128, cols: 256, offset: 0, weights: new Int8Array(MAX_PAYLOAD) }))).toBe(
      'oversized',
    )
    expect(encodeMessage({ type: 'loadWeights', slot: 0, rows: 128, cols: 256, offset: 0, weights: new Int8Array(MAX_PAYLOAD - 11) })).toHaveLength(MAX_PAYLOAD)
    expect(reasonOf(() => encodeFrame({ seq: 65536, message: { type: 'hello' } }))).toBe('malformed')
  })

  it('decodes any payload of any type byte to a message or a ProtocolError', () => {
    fc.assert(
      fc.property(u8, fc.uint8Array({ maxLength: 64 }), (type, payload) => {
        try {
          const message = decodeMessage(type, payload)
          // What decodes re-encodes to the same bytes, except for reserved feature bits.
          if (message.type !== 'info') expect(hex(encodeMessage(message))).toBe(hex(payload))
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('says which frame-level check failed, with the seq once the header is readable', () => {
    const good = encodeFrame({ seq: 0x0a0b, message: { type: 'calibrate', probe: 'offset', repeats: 10 } })
    const raw = cobsDecode(good.subarray(0, good.length - 1))
    const reframe = (bytes: Uint8Array, fixCrc = true) => {
      const copy = bytes.slice()
      if (fixCrc) new DataView(copy.buffer).setUint16(copy.length - 2, crc16(copy.subarray(0, copy.length - 2)), true)
      return cobsEncode(copy)
    }
    const caught = (bytes: Uint8Array) => {
      try {
        decodeFrame(bytes)
      } catch (error) {
        if (error instanceof ProtocolError) return [error.reason, error.seq]
      }
      return ['no error']
    }
    const flipped = raw.slice()
    flipBits(flipped, 7, 0x10)
    expect(caught(reframe(flipped, false))).toEqual(['crc', 0x0a0b])
    const v2 = raw.slice()
    v2[0] = 2
    expect(caught(reframe(v2))).toEqual(['version', 0x0a0b])
    const unknown = raw.slice()
    unknown[1] = 0x42
    expect(caught(reframe(unknown))).toEqual(['unknown-type', 0x0a0b])
    expect(caught(cobsEncode(raw.subarray(0, 5)))).toEqual(['truncated', 0x0a0b])
    expect(caught(cobsEncode(raw.subarray(0, 2)))).toEqual(['truncated', null])
    expect(caught(cobsEncode(raw.subarray(0, 9)))).toEqual(['crc', 0x0a0b])
    const announcesMore = raw.slice()
    new DataView(announcesMore.buffer).setUint16(4, 4, true)
    expect(caught(reframe(announcesMore, false))).toEqual(['crc', 0x0a0b])
    expect(caught(reframe(announcesMore))).toEqual(['malformed', 0x0a0b])
    const huge = raw.slice()
    new DataView(huge.buffer).setUint16(4, MAX_PAYLOAD + 1, true)
    expect(caught(reframe(huge))).toEqual(['malformed', 0x0a0b])
    expect(caught(new Uint8Array(frameBytes(MAX_PAYLOAD)).fill(1))).toEqual(['oversized', null])
    expect(PROTOCOL_VERSION).toBe(1)
  })
})

describe('frame sizes', () => {
  it('frameBytes bounds every encoded frame and is exact for a payload without zeros', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        expect(encodeFrame(frame).length).toBeLessThanOrEqual(frameBytes(encodeMessage(frame.message).length))
      }),
      { numRuns: 300 },
    )
    for (const length of [0, 100, 246, 247, 500, 4000, MAX_PAYLOAD - 11]) {
      // seq 0x0101, non-zero weights and a count without zero bytes: only the CRC may hold a zero.
      const count = length
      const weights = new Int8Array(count).fill(5)
      const frame = encodeFrame({ seq: 0x0101, message: { type: 'loadWeights', slot: 1, rows: 0x0101, cols: 0x0101, offset: 0x01010101, weights } })
      const bound = frameBytes(11 + count)
      expect(frame.length === bound || frame.length === bound - 1).toBe(true)
    }
    expect(frameBytes(0)).toBe(10)
    expect(frameBytes(MAX_PAYLOAD)).toBe(8200 + 33 + 1)
  })
})

describe('FrameDecoder on bad input', () => {
  const validAfter: Frame = { seq: 77, message: { type: 'setDone', key: 'repeats', value: 3 } }

  it('reports a bit-flipped frame as a failure, never as a different frame', () => {
    fc.assert(
      fc.property(anyFrame, fc.nat(), fc.integer({ min: 0, max: 7 }), (frame, at, bit) => {
        const bytes = encodeFrame(frame)
        const index = at % (bytes.length - 1)
        flipBits(bytes, index, 1 << bit)
        const decoder = new FrameDecoder()
        const decoded = decoder.push(bytes)
        expect(decoded.length).toBeGreaterThan(0)
        for (const entry of decoded) expect(entry.ok).toBe(false)
        // A flip that made a 0x00 leaves the tail without a delimiter; the next delimiter ends it.
        decoder.push(new Uint8Array([0]))
        expect(decoder.push(encodeFrame(validAfter))).toEqual([{ ok: true, frame: validAfter }])
      }),
      { numRuns: 1000, seed: 20240611 },
    )
  })

  it('reports a truncated frame as a failure', () => {
    fc.assert(
      fc.property(anyFrame, fc.nat(), (frame, at) => {
        const bytes = encodeFrame(frame)
        const cut = at % (bytes.length - 1)
        const decoder = new FrameDecoder()
        const decoded = decoder.push(concat([bytes.subarray(0, cut), new Uint8Array([0]), encodeFrame(validAfter)]))
        expect(decoded.at(-1)).toEqual({ ok: true, frame: validAfter })
        expect(decoded.slice(0, -1).every((entry) => !entry.ok && ['truncated', 'cobs', 'crc'].includes(entry.error.reason))).toBe(true)
        expect(decoded.length).toBe(cut === 0 ? 1 : 2)
      }),
      { numRuns: 500 },
    )
  })

  it('drops an over-long frame to the next delimiter and reports it once as oversized', () => {
    const decoder = new FrameDecoder()
    const long = new Uint8Array(frameBytes(MAX_PAYLOAD) + 5000).fill(0x33)
    const decoded = decodeAll(decoder, [...chunked(long, [1000, 4000, 8000, 9000, 12000]), concat([new Uint8Array([0]), encodeFrame(validAfter)])])
    expect(decoded).toHaveLength(2)
    const [first, second] = decoded
    expect(first).toMatchObject({ ok: false, seq: null })
    expect(first?.ok === false && first.error.reason).toBe('oversized')
    expect(second).toEqual({ ok: true, frame: validAfter })
    // The largest valid frame still fits.
    const biggest: Frame = {
      seq: 1,
      message: { type: 'loadWeights', slot: 0, rows: 128, cols: 256, offset: 0, weights: new Int8Array(MAX_PAYLOAD - 11).fill(1) },
    }
    expect(decoder.push(encodeFrame(biggest))).toEqual([{ ok: true, frame: biggest }])
  })

  it('survives 100 000 random frames and still decodes a valid one afterwards', () => {
    // A tiny seeded generator: fast-check would spend seconds building this many values.
    let state = 0x9e3779b9
    const next = () => {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      return state >>> 0
    }
    const frames = 100_000
    const stream = new Uint8Array(frames * 48)
    let length = 0
    let expected = 0
    const knownTypes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x7f]
    for (let f = 0; f < frames; f++) {
      const size = next() % 40
      const raw = new Uint8Array(size)
      for (let i = 0; i < size; i++) raw[i] = next() & 0xff
      if (f % 2 === 1 && size >= 8) {
        // Half the frames get a valid header and CRC so random payloads reach the message decoder.
        raw[0] = 1
        raw[1] = knownTypes[next() % knownTypes.length]!
        new DataView(raw.buffer).setUint16(4, size - 8, true)
        new DataView(raw.buffer).setUint16(size - 2, crc16(raw.subarray(0, size - 2)), true)
      }
      const encoded = f % 3 === 0 ? raw.map((b) => b || 1) : cobsEncode(raw)
      if (encoded.length === 0) continue
      stream.set(encoded, length)
      length += encoded.length
      stream[length++] = 0
      expected++
    }
    const decoder = new FrameDecoder()
    let entries = 0
    let failures = 0
    for (let at = 0; at < length;) {
      const step = 1 + (next() % 4096)
      for (const entry of decoder.push(stream.subarray(at, Math.min(length, at + step)))) {
        entries++
        if (!entry.ok) failures++
      }
      at += step
    }
    expect(entries).toBe(expected)
    expect(failures).toBeGreaterThan(expected / 2)
    expect(decoder.push(encodeFrame(validAfter))).toEqual([{ ok: true, frame: validAfter }])
  })

  it('reset() forgets a partial frame', () => {
    const decoder = new FrameDecoder()
    const bytes = encodeFrame(validAfter)
    expect(decoder.push(bytes.subarray(0, 4))).toEqual([])
    decoder.reset()
    expect(decoder.push(bytes)).toEqual([{ ok: true, frame: validAfter }])
  })
})

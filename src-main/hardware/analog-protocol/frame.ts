// Frames on the wire: header + payload + CRC, COBS-encoded, 0x00-terminated; and a stream decoder that never throws.
import { cobsDecode, cobsEncode, cobsMaxLength } from './cobs.ts'
import { crc16 } from './crc16.ts'
import { ProtocolError } from './errors.ts'
import { MAX_PAYLOAD, MESSAGE_TYPES, PROTOCOL_VERSION, decodeMessage, encodeMessage, type Message } from './messages.ts'

/** version u8, type u8, seq u16, payloadLength u16. */
export const HEADER_BYTES = 6
const CRC_BYTES = 2
/** The most COBS bytes one frame can have (without its delimiter). */
const MAX_ENCODED = cobsMaxLength(HEADER_BYTES + MAX_PAYLOAD + CRC_BYTES)

export interface Frame {
  seq: number
  message: Message
}

export type Decoded = { ok: true; frame: Frame } | { ok: false; error: ProtocolError; seq: number | null }

/** The most bytes a frame with this payload occupies on the wire (header, payload, CRC, COBS codes, delimiter). */
export function frameBytes(payloadLength: number): number {
  return cobsMaxLength(HEADER_BYTES + payloadLength + CRC_BYTES) + 1
}

/** The COBS bytes of a frame followed by the 0x00 delimiter. */
export function encodeFrame(frame: Frame): Uint8Array {
  const { seq, message } = frame
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new ProtocolError('malformed', `seq must be an integer from 0 to 65535, got ${seq}.`)
  const payload = encodeMessage(message)
  const raw = new Uint8Array(HEADER_BYTES + payload.length + CRC_BYTES)
  const view = new DataView(raw.buffer)
  view.setUint8(0, PROTOCOL_VERSION)
  view.setUint8(1, MESSAGE_TYPES[message.type])
  view.setUint16(2, seq, true)
  view.setUint16(4, payload.length, true)
  raw.set(payload, HEADER_BYTES)
  view.setUint16(HEADER_BYTES + payload.length, crc16(raw.subarray(0, HEADER_BYTES + payload.length)), true)
  const encoded = cobsEncode(raw)
  const out = new Uint8Array(encoded.length + 1)
  out.set(encoded)
  return out
}

/** Decodes the COBS bytes between two delimiters; throws ProtocolError, with `seq` set once the header was readable. */
export function decodeFrame(raw: Uint8Array): Frame {
  if (raw.length > MAX_ENCODED) throw new ProtocolError('oversized', `A frame of ${raw.length} encoded bytes is longer than any valid frame.`)
  const bytes = cobsDecode(raw)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const seq = bytes.length >= 4 ? view.getUint16(2, true) : null
  if (bytes.length < HEADER_BYTES + CRC_BYTES) throw new ProtocolError('truncated', `A frame of ${bytes.length} bytes is shorter than a header and CRC.`, seq)
  // The CRC is always the last two bytes and is checked before any header field is trusted:
  // a corrupted length or version byte then asks for a resend instead of looking like a sender's bug.
  const end = bytes.length - CRC_BYTES
  const crc = view.getUint16(end, true)
  const expected = crc16(bytes.subarray(0, end))
  if (crc !== expected) throw new ProtocolError('crc', `The frame CRC is 0x${hex4(crc)}; its bytes give 0x${hex4(expected)}.`, seq)
  if (bytes[0] !== PROTOCOL_VERSION) throw new ProtocolError('version', `The frame is protocol version ${bytes[0]}; this side speaks ${PROTOCOL_VERSION}.`, seq)
  const payloadLength = view.getUint16(4, true)
  if (payloadLength !== end - HEADER_BYTES)
    throw new ProtocolError('malformed', `The frame announces ${payloadLength} payload bytes but holds ${end - HEADER_BYTES}.`, seq)
  try {
    return { seq: seq as number, message: decodeMessage(view.getUint8(1), bytes.subarray(HEADER_BYTES, end)) }
  } catch (error) {
    if (error instanceof ProtocolError) throw new ProtocolError(error.reason, error.message, seq)
    throw error
  }
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0')
}

/** Stream decoder: feed any chunking of the byte stream; never throws; a frame longer than the COBS size of MAX_PAYLOAD is dropped up to the next delimiter and reported once as 'oversized'. */
export class FrameDecoder {
  private readonly buffer = new Uint8Array(MAX_ENCODED)
  private length = 0
  private dropping = false

  push(chunk: Uint8Array): Decoded[] {
    const out: Decoded[] = []
    let start = 0
    while (start < chunk.length) {
      const zero = chunk.indexOf(0, start)
      const end = zero === -1 ? chunk.length : zero
      this.append(chunk.subarray(start, end), out)
      if (zero === -1) break
      this.finish(out)
      start = zero + 1
    }
    return out
  }

  reset(): void {
    this.length = 0
    this.dropping = false
  }

  private append(bytes: Uint8Array, out: Decoded[]): void {
    if (this.dropping || bytes.length === 0) return
    if (this.length + bytes.length > this.buffer.length) {
      this.dropping = true
      this.length = 0
      out.push({
        ok: false,
        error: new ProtocolError('oversized', `A frame ran past ${MAX_ENCODED} encoded bytes without a delimiter; it was dropped.`),
        seq: null,
      })
      return
    }
    this.buffer.set(bytes, this.length)
    this.length += bytes.length
  }

  private finish(out: Decoded[]): void {
    const length = this.length
    this.length = 0
    if (this.dropping) {
      this.dropping = false
      return
    }
    // Back-to-back delimiters are allowed, so a sender may flush the line with a lone 0x00.
    if (length === 0) return
    try {
      out.push({ ok: true, frame: decodeFrame(this.buffer.subarray(0, length)) })
    } catch (error) {
      const protocolError = error instanceof ProtocolError ? error : new ProtocolError('malformed', `The frame could not be decoded: ${String(error)}`)
      out.push({ ok: false, error: protocolError, seq: protocolError.seq })
    }
  }
}

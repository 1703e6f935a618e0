// Consistent Overhead Byte Stuffing: removes every 0x00 from a frame so 0x00 can delimit frames on the wire.
import { ProtocolError } from './errors.ts'

/** The most bytes cobsEncode returns for `length` input bytes. */
export function cobsMaxLength(length: number): number {
  return length + Math.max(1, Math.ceil(length / 254))
}

/** Encodes without the trailing delimiter; a run of 254 non-zero bytes at the very end gets no extra code byte. */
export function cobsEncode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxLength(bytes.length))
  let codeAt = 0
  let write = 1
  let code = 1
  for (const [i, byte] of bytes.entries()) {
    if (byte === 0) {
      out[codeAt] = code
      codeAt = write++
      code = 1
      continue
    }
    out[write++] = byte
    code++
    if (code === 0xff && i + 1 < bytes.length) {
      out[codeAt] = code
      codeAt = write++
      code = 1
    }
  }
  out[codeAt] = code
  return out.slice(0, write)
}

/** Decodes one COBS block sequence (without the delimiter); throws ProtocolError('cobs') if it cannot be a COBS encoding. */
export function cobsDecode(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) throw new ProtocolError('cobs', 'An empty COBS block is not a valid encoding.')
  const out = new Uint8Array(bytes.length)
  let read = 0
  let write = 0
  while (read < bytes.length) {
    const code = bytes[read]!
    if (code === 0) throw new ProtocolError('cobs', `A COBS block contains a 0x00 byte at ${read}.`)
    const end = read + code
    if (end > bytes.length) throw new ProtocolError('cobs', `A COBS code at ${read} points past the end of the frame.`)
    const block = bytes.subarray(read + 1, end)
    const zero = block.indexOf(0)
    if (zero >= 0) throw new ProtocolError('cobs', `A COBS block contains a 0x00 byte at ${read + 1 + zero}.`)
    out.set(block, write)
    write += block.length
    read = end
    // The zero a code implies is dropped at the end of the frame (the "phantom" zero).
    if (code !== 0xff && read < bytes.length) out[write++] = 0
  }
  return out.slice(0, write)
}

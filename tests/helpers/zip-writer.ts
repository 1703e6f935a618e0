// Builds zip archives byte by byte for the tests (independent of the reader), with whatever sizes the headers should
// declare, so an archive can lie about what it holds; and deflate streams of many zeros made without holding them.
import { createDeflateRaw, deflateRawSync } from 'node:zlib'

export interface RawEntry {
  name: string
  /** The entry's bytes as stored: raw deflate (method 8) or as they are (method 0). */
  data: Uint8Array
  method: 0 | 8
  /** The uncompressed size both headers declare. */
  size: number
}

export function deflatedEntry(name: string, plain: Uint8Array): RawEntry {
  return { name, data: deflateRawSync(plain), method: 8, size: plain.length }
}

/** A raw deflate stream of `bytes` zeros, compressed in pieces so the zeros are never held at once (~1 KB per MiB). */
export async function deflatedZeros(bytes: number): Promise<Uint8Array> {
  const piece = new Uint8Array(Math.min(bytes, 16 * 2 ** 20))
  const deflate = createDeflateRaw({ level: 9 })
  const parts: Buffer[] = []
  deflate.on('data', (part: Buffer) => parts.push(part))
  const ended = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve)
    deflate.on('error', reject)
  })
  for (let written = 0; written < bytes; written += piece.length) {
    const chunk = piece.subarray(0, Math.min(piece.length, bytes - written))
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve))
  }
  deflate.end()
  await ended
  return new Uint8Array(Buffer.concat(parts))
}

/** A zip archive (no Zip64, CRCs left zero: the reader under test does not check them). */
export function zipOf(entries: RawEntry[]): Uint8Array {
  const locals: Uint8Array[] = []
  const centrals: Uint8Array[] = []
  let offset = 0
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.name)
    const local = new Uint8Array(30 + name.length)
    const lv = new DataView(local.buffer)
    lv.setUint32(0, 0x04034b50, true)
    lv.setUint16(4, 20, true)
    lv.setUint16(8, entry.method, true)
    lv.setUint32(18, entry.data.length, true)
    lv.setUint32(22, entry.size, true)
    lv.setUint16(26, name.length, true)
    local.set(name, 30)
    const central = new Uint8Array(46 + name.length)
    const cv = new DataView(central.buffer)
    cv.setUint32(0, 0x02014b50, true)
    cv.setUint16(4, 20, true)
    cv.setUint16(6, 20, true)
    cv.setUint16(10, entry.method, true)
    cv.setUint32(20, entry.data.length, true)
    cv.setUint32(24, entry.size, true)
    cv.setUint16(28, name.length, true)
    cv.setUint32(42, offset, true)
    central.set(name, 46)
    locals.push(local, entry.data)
    centrals.push(central)
    offset += local.length + entry.data.length
  }
  const directorySize = centrals.reduce((n, c) => n + c.length, 0)
  const end = new Uint8Array(22)
  const ev = new DataView(end.buffer)
  ev.setUint32(0, 0x06054b50, true)
  ev.setUint16(8, entries.length, true)
  ev.setUint16(10, entries.length, true)
  ev.setUint32(12, directorySize, true)
  ev.setUint32(16, offset, true)
  const out = new Uint8Array(offset + directorySize + end.length)
  let at = 0
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at)
    at += part.length
  }
  return out
}

// IDX files (MNIST, Fashion-MNIST, EMNIST), raw or gzipped: magic 0x0000, dtype byte, rank byte, big-endian dims, data.
import { gunzipSync } from 'node:zlib'
import { DataFileError } from './errors.ts'
import { bytesText, MAX_INFLATE_RATIO, MAX_INFLATED_BYTES, RATIO_FREE_BYTES } from './limits.ts'

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array

export interface IdxArray {
  shape: number[]
  data: IdxData
}

const DTYPES: Record<number, { size: number; make: (n: number) => IdxData; read: (v: DataView, o: number) => number }> = {
  0x08: { size: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) },
  0x09: { size: 1, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o) },
  0x0b: { size: 2, make: (n) => new Int16Array(n), read: (v, o) => v.getInt16(o) },
  0x0c: { size: 4, make: (n) => new Int32Array(n), read: (v, o) => v.getInt32(o) },
  0x0d: { size: 4, make: (n) => new Float32Array(n), read: (v, o) => v.getFloat32(o) },
  0x0e: { size: 8, make: (n) => new Float64Array(n), read: (v, o) => v.getFloat64(o) },
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** Gunzips at most what the ratio and size caps allow: a gzip bomb stops there instead of filling memory. */
function gunzipCapped(bytes: Uint8Array, file: string): Uint8Array {
  const cap = Math.min(MAX_INFLATED_BYTES, Math.max(RATIO_FREE_BYTES, bytes.length * MAX_INFLATE_RATIO))
  try {
    return gunzipSync(bytes, { maxOutputLength: cap })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFileError(
        file,
        `its gzip data inflates to more than ${bytesText(cap)} (over ${MAX_INFLATE_RATIO}:1 or past ${bytesText(MAX_INFLATED_BYTES)}), which is how a gzip bomb looks.`,
      )
    }
    throw new DataFileError(file, `the gzip data is damaged or truncated (${(error as Error).message}).`)
  }
}

export function parseIdx(input: Uint8Array, file = 'IDX file'): IdxArray {
  const bytes = isGzip(input) ? gunzipCapped(input, file) : input
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFileError(file, 'this is not an IDX file (the first two bytes must be zero). Is it an image archive of another kind?')
  }
  const dtype = DTYPES[bytes[2]!]
  if (!dtype) throw new DataFileError(file, `unknown IDX data type 0x${bytes[2]!.toString(16).padStart(2, '0')}; known: 08, 09, 0B, 0C, 0D, 0E.`)
  const rank = bytes[3]!
  if (rank < 1 || rank > 4) throw new DataFileError(file, `an IDX array of rank ${rank} is not supported (1 to 4).`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerSize = 4 + 4 * rank
  if (bytes.length < headerSize) throw new DataFileError(file, 'the file ends inside its header (truncated).')
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i))
  const count = shape.reduce((a, b) => a * b, 1)
  const expected = headerSize + count * dtype.size
  if (bytes.length < expected) {
    throw new DataFileError(file, `truncated: the header announces ${shape.join('×')} values (${expected} bytes) but the file has ${bytes.length} bytes.`)
  }
  if (bytes.length > expected) throw new DataFileError(file, `${bytes.length - expected} unexpected bytes after the data.`)
  if (dtype.size === 1 && bytes[2] === 0x08) return { shape, data: bytes.slice(headerSize, expected) }
  const data = dtype.make(count)
  for (let i = 0; i < count; i++) data[i] = dtype.read(view, headerSize + i * dtype.size)
  return { shape, data }
}

/** Writes an unsigned-byte IDX array (for the embedded dataset subsets). */
export function encodeIdxU8(shape: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length)
  const view = new DataView(header.buffer)
  header[2] = 0x08
  header[3] = shape.length
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d))
  const out = new Uint8Array(header.length + data.length)
  out.set(header)
  out.set(data, header.length)
  return out
}

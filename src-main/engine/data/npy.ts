// NumPy .npy and .npz (float32/float64/uint8/int8/int16/int32/int64 little-endian, C order) — read and write.
// A header's shape is checked against the bytes that follow it before any array is made.
import { zipSync } from 'fflate'
import { DataFileError } from './errors.ts'
import { DamagedZip, readZipEntries } from './zip.ts'

export type NpyData = Float32Array | Float64Array | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array

export interface NpyArray {
  dtype: string
  shape: number[]
  data: NpyData
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY
const TYPES: Record<string, { size: number; make: (b: ArrayBuffer, o: number, n: number) => NpyData }> = {
  '<f4': { size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  '<f8': { size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  '|u1': { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  '|i1': { size: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  '<i2': { size: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  '<i4': { size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  '<i8': { size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
}

export function parseNpy(bytes: Uint8Array, file = 'NPY file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new DataFileError(file, 'this is not a .npy array (wrong magic bytes).')
  const major = bytes[6]!
  if (major !== 1 && bytes.length < 12) throw new DataFileError(file, 'the file ends inside its header (truncated).')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true)
  const headerStart = major === 1 ? 10 : 12
  if (bytes.length < headerStart + headerLength) throw new DataFileError(file, 'the file ends inside its header (truncated).')
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength))
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (!descr || !fortran || shapeText === undefined) throw new DataFileError(file, 'the .npy header cannot be read.')
  const type = TYPES[descr.replace('=', '<')]
  if (!type) throw new DataFileError(file, `unsupported dtype '${descr}'; use float32, float64, uint8, int8, int16, int32 or int64 (little-endian).`)
  if (fortran === 'True') throw new DataFileError(file, 'Fortran-ordered arrays are not supported; save with np.ascontiguousarray.')
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  // Python 2's NumPy wrote long integers with an L.
  if (!dims.every((d) => /^\d+L?$/.test(d))) {
    throw new DataFileError(file, `the shape (${dims.join(', ')}) is impossible: every dimension must be a whole number, zero or more.`)
  }
  const shape = dims.map((d) => Number.parseInt(d, 10))
  const count = shape.reduce((a, b) => a * b, 1)
  const offset = headerStart + headerLength
  const available = bytes.length - offset
  if (!Number.isSafeInteger(count * type.size) || available < count * type.size) {
    throw new DataFileError(file, `truncated: shape (${shape.join(', ')}) needs ${count * type.size} data bytes, the file has ${available}.`)
  }
  if (available > count * type.size) {
    throw new DataFileError(
      file,
      `shape (${shape.join(', ')}) needs ${count * type.size} data bytes, but ${available} follow the header; the header does not describe this data.`,
    )
  }
  // Copy into an aligned buffer: typed arrays need offsets that are multiples of the element size.
  const copy = bytes.slice(offset, offset + count * type.size)
  return { dtype: descr, shape, data: type.make(copy.buffer, 0, count) }
}

/**
 * The arrays of an .npz, by name (entry name without `.npy`); `wanted` picks which to read: the others are never
 * inflated, whatever size they claim. Entries that are not .npy files are skipped.
 */
export function parseNpz(bytes: Uint8Array, file = 'NPZ file', wanted: (name: string) => boolean = () => true): Record<string, NpyArray> {
  let entries: Map<string, Uint8Array>
  try {
    entries = readZipEntries(bytes, file, (entry) => entry.endsWith('.npy') && wanted(entry.slice(0, -4)))
  } catch (error) {
    if (error instanceof DamagedZip) throw new DataFileError(file, `this is not a readable .npz (zip) archive: ${error.message}.`)
    throw error
  }
  const arrays: Record<string, NpyArray> = {}
  for (const [name, content] of entries) arrays[name.slice(0, -4)] = parseNpy(content, `${file}:${name}`)
  return arrays
}

const DESCR_OF = new Map<unknown, string>([
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Uint8Array, '|u1'],
  [Int8Array, '|i1'],
  [Int16Array, '<i2'],
  [Int32Array, '<i4'],
  [BigInt64Array, '<i8'],
])

export function encodeNpy(shape: number[], data: NpyData): Uint8Array {
  const descr = DESCR_OF.get(data.constructor)
  if (descr === undefined) throw new Error(`NPY files here hold no ${data.constructor.name}.`)
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ')
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`
  // Pad so the data starts on a 64-byte boundary, as NumPy does.
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n'
  const out = new Uint8Array(10 + header.length + data.byteLength)
  out.set(MAGIC)
  out[6] = 1
  new DataView(out.buffer).setUint16(8, header.length, true)
  out.set(new TextEncoder().encode(header), 10)
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length)
  return out
}

export function encodeNpz(arrays: Record<string, { shape: number[]; data: NpyData }>): Uint8Array {
  // A fixed timestamp, so the same arrays always give the same bytes (shipped resources stay reproducible).
  const mtime = new Date('2000-01-01T00:00:00Z')
  return zipSync(Object.fromEntries(Object.entries(arrays).map(([name, a]) => [`${name}.npy`, [encodeNpy(a.shape, a.data), { mtime }]])))
}

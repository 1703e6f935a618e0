// Reading chosen entries of a zip archive (an NPZ is one) without trusting it. Sizes come from the central directory
// and are checked against the file, against a total cap and against a compression-ratio cap before anything is
// allocated; entries nobody asked for are never inflated; an entry is inflated in small pieces and refused the moment
// it gives more than it declared, so a lying header costs one piece, not gigabytes.
import { Inflate } from 'fflate'
import { DataFileError } from './errors.ts'
import { bytesText, MAX_INFLATE_RATIO, MAX_INFLATED_BYTES, RATIO_FREE_BYTES } from './limits.ts'

/** The archive's structure is broken: the caller says what kind of file it expected. */
export class DamagedZip extends Error {}

export interface ZipEntry {
  name: string
  /** 0 stored, 8 deflated. */
  method: number
  encrypted: boolean
  compressedSize: number
  size: number
  localHeader: number
}

export interface ZipLimits {
  maxTotalBytes: number
  maxRatio: number
  ratioFreeBytes: number
}

export const ZIP_LIMITS: ZipLimits = { maxTotalBytes: MAX_INFLATED_BYTES, maxRatio: MAX_INFLATE_RATIO, ratioFreeBytes: RATIO_FREE_BYTES }

const END_OF_DIRECTORY = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_END = 0x06064b50
const CENTRAL_HEADER = 0x02014b50
const LOCAL_HEADER = 0x04034b50
const CENTRAL_HEADER_BYTES = 46
const UNKNOWN_32 = 0xffffffff
/** Compressed bytes per inflate step: at most ~1030 times this comes out before the size is checked again. */
const INFLATE_STEP = 32 * 1024

/** The entries listed in the central directory, every offset and count checked against the file's length. */
export function zipEntries(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const u16 = (at: number) => view.getUint16(at, true)
  const u32 = (at: number) => view.getUint32(at, true)
  const u64 = (at: number) => Number(view.getBigUint64(at, true))
  const inside = (at: number, length: number) => at >= 0 && length >= 0 && at + length <= bytes.length

  let end = -1
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === END_OF_DIRECTORY) {
      end = at
      break
    }
  }
  if (end < 0) throw new DamagedZip('it has no end-of-archive record')
  let count = u16(end + 10)
  let directorySize = u32(end + 12)
  let directory = u32(end + 16)
  if (end >= 20 && u32(end - 20) === ZIP64_LOCATOR) {
    const zip64End = u64(end - 12)
    if (!inside(zip64End, 56) || u32(zip64End) !== ZIP64_END) throw new DamagedZip('its Zip64 end record is missing')
    count = u64(zip64End + 32)
    directorySize = u64(zip64End + 40)
    directory = u64(zip64End + 48)
  }
  if (!inside(directory, directorySize)) throw new DamagedZip('its central directory lies outside the file')
  if (count * CENTRAL_HEADER_BYTES > directorySize) throw new DamagedZip(`its central directory is too small for the ${count} entries it announces`)

  const entries: ZipEntry[] = []
  let at = directory
  for (let i = 0; i < count; i++) {
    if (!inside(at, CENTRAL_HEADER_BYTES) || u32(at) !== CENTRAL_HEADER) throw new DamagedZip(`the directory entry ${i + 1} is missing`)
    const flags = u16(at + 8)
    const nameLength = u16(at + 28)
    const extraLength = u16(at + 30)
    const commentLength = u16(at + 32)
    if (!inside(at, CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength)) throw new DamagedZip(`the directory entry ${i + 1} is cut short`)
    let compressedSize = u32(at + 20)
    let size = u32(at + 24)
    let localHeader = u32(at + 42)
    const nameBytes = bytes.subarray(at + CENTRAL_HEADER_BYTES, at + CENTRAL_HEADER_BYTES + nameLength)
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes)
    if (size === UNKNOWN_32 || compressedSize === UNKNOWN_32 || localHeader === UNKNOWN_32) {
      // Zip64: the real values sit in extra field 0x0001, in this order, for the fields marked unknown.
      let extra = at + CENTRAL_HEADER_BYTES + nameLength
      const extraEnd = extra + extraLength
      while (extra + 4 <= extraEnd && u16(extra) !== 0x0001) extra += 4 + u16(extra + 2)
      if (extra + 4 > extraEnd) throw new DamagedZip(`'${name}' lacks its Zip64 sizes`)
      let field = extra + 4
      const next = (): number => {
        if (field + 8 > extraEnd) throw new DamagedZip(`'${name}' has a short Zip64 field`)
        field += 8
        return u64(field - 8)
      }
      if (size === UNKNOWN_32) size = next()
      if (compressedSize === UNKNOWN_32) compressedSize = next()
      if (localHeader === UNKNOWN_32) localHeader = next()
    }
    entries.push({ name, method: u16(at + 10), encrypted: (flags & 1) === 1, compressedSize, size, localHeader })
    at += CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength
  }
  return entries
}

/**
 * The entries `wanted` selects, inflated. Every other entry is skipped unread, however large it claims to be.
 * Size and ratio problems are DataFileErrors naming `file`; a broken structure is a DamagedZip.
 */
export function readZipEntries(bytes: Uint8Array, file: string, wanted: (name: string) => boolean, limits: ZipLimits = ZIP_LIMITS): Map<string, Uint8Array> {
  const chosen = zipEntries(bytes).filter((entry) => wanted(entry.name))
  const names = new Set<string>()
  let total = 0
  for (const entry of chosen) {
    if (names.has(entry.name)) throw new DataFileError(file, `holds '${entry.name}' twice; which one is meant cannot be told.`)
    names.add(entry.name)
    // Every claim is checked before the first byte is allocated.
    checkDeclared(entry, file, limits, (total += entry.size))
  }
  const out = new Map<string, Uint8Array>()
  for (const entry of chosen) out.set(entry.name, inflateEntry(bytes, entry, file))
  return out
}

function checkDeclared(entry: ZipEntry, file: string, limits: ZipLimits, totalSoFar: number): void {
  if (entry.encrypted) throw new DataFileError(file, `'${entry.name}' is encrypted; save the archive without a password.`)
  if (entry.method !== 0 && entry.method !== 8) {
    throw new DataFileError(file, `'${entry.name}' uses compression method ${entry.method}; only stored and deflated entries are read.`)
  }
  if (entry.method === 0 && entry.compressedSize !== entry.size) {
    throw new DamagedZip(`the stored entry '${entry.name}' declares ${entry.size} bytes but holds ${entry.compressedSize}`)
  }
  if (totalSoFar > limits.maxTotalBytes) {
    throw new DataFileError(
      file,
      `'${entry.name}' declares ${bytesText(entry.size)}, which takes the arrays read from this archive past ${bytesText(limits.maxTotalBytes)}; that is more than Benchside reads from one file.`,
    )
  }
  if (entry.size > limits.ratioFreeBytes && entry.size > entry.compressedSize * limits.maxRatio) {
    throw new DataFileError(
      file,
      `'${entry.name}' declares ${bytesText(entry.size)} from ${bytesText(entry.compressedSize)} of compressed data (over ${limits.maxRatio}:1), which is how a zip bomb looks; if the array really is that repetitive, save it with np.savez (uncompressed).`,
    )
  }
}

function entryData(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const at = entry.localHeader
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_HEADER) throw new DamagedZip(`the header of '${entry.name}' is missing`)
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true)
  if (start + entry.compressedSize > bytes.length) throw new DamagedZip(`'${entry.name}' runs past the end of the file (truncated)`)
  return bytes.subarray(start, start + entry.compressedSize)
}

function inflateEntry(bytes: Uint8Array, entry: ZipEntry, file: string): Uint8Array {
  const data = entryData(bytes, entry)
  if (entry.method === 0) return data.slice()
  const out = new Uint8Array(entry.size)
  let filled = 0
  const inflater = new Inflate((chunk) => {
    if (filled + chunk.length > out.length) {
      throw new DataFileError(file, `'${entry.name}' inflates to more than the ${bytesText(entry.size)} it declares (a damaged archive, or a zip bomb).`)
    }
    out.set(chunk, filled)
    filled += chunk.length
  })
  try {
    if (data.length === 0) inflater.push(data, true)
    for (let at = 0; at < data.length; at += INFLATE_STEP) inflater.push(data.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= data.length)
  } catch (error) {
    if (error instanceof DataFileError) throw error
    throw new DamagedZip(`'${entry.name}' cannot be inflated (${(error as Error).message})`)
  }
  if (filled !== entry.size) throw new DamagedZip(`'${entry.name}' inflates to ${filled} bytes but declares ${entry.size} (truncated or damaged)`)
  return out
}

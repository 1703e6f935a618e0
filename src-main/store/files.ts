// Artifact files: written whole or not at all, identified by their sha256.
import { createHash } from 'node:crypto'
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export function writeFileAtomic(file: string, data: Uint8Array | string): { sha256: string; size: number } {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, bytes)
  renameSync(tmp, file)
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.byteLength }
}

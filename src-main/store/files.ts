// Artifact files: written whole or not at all, identified by their sha256.
import { createHash } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, normalize, sep } from 'node:path'
import { BenchsideError } from '../contract/index.ts'

/** A file path inside root for a user- or job-given relative path; refuses anything that is not strictly inside. */
export function pathInside(root: string, relativePath: string): string {
  const clean = normalize(relativePath)
  if (!relativePath || isAbsolute(relativePath) || clean === '.' || clean === '..' || clean.startsWith('..' + sep)) {
    throw new BenchsideError({
      code: 'INVALID_ARGS',
      field: 'path',
      message: `Artifact path '${relativePath}' must be a relative file path that stays inside the run's folder.`,
    })
  }
  return join(root, clean)
}

export function writeFileAtomic(file: string, data: Uint8Array | string): { sha256: string; size: number } {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, bytes)
  try {
    renameSync(tmp, file)
  } catch (error) {
    rmSync(tmp, { force: true })
    throw error
  }
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.byteLength }
}

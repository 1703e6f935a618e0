// Trust-on-first-use memory of SSH host keys: the first connect records a host's SHA256 fingerprint, later ones must match.
// KnownHosts is an interface so the store or a test can keep it; JsonFileKnownHosts keeps it in one JSON file.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export interface KnownHostEntry {
  /** OpenSSH style: "SHA256:" + unpadded base64 of the key blob's SHA-256. */
  fingerprint: string
  keyType: string
  addedAt: number
}

export interface KnownHosts {
  get(hostId: string): KnownHostEntry | undefined
  remember(hostId: string, entry: KnownHostEntry): void
  forget(hostId: string): void
}

/** How OpenSSH names a host in known_hosts: "host" on port 22, "[host]:port" otherwise. */
export function hostId(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

export function sha256Fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')
}

/** The key type is the first length-prefixed string of the SSH public key blob, e.g. "ssh-ed25519". */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown'
  const length = keyBlob.readUInt32BE(0)
  return length > 0 && length < 64 && keyBlob.length >= 4 + length ? keyBlob.subarray(4, 4 + length).toString('latin1') : 'unknown'
}

export class MemoryKnownHosts implements KnownHosts {
  private readonly entries = new Map<string, KnownHostEntry>()
  get(id: string): KnownHostEntry | undefined {
    return this.entries.get(id)
  }
  remember(id: string, entry: KnownHostEntry): void {
    this.entries.set(id, entry)
  }
  forget(id: string): void {
    this.entries.delete(id)
  }
}

export class JsonFileKnownHosts implements KnownHosts {
  constructor(readonly file: string) {}

  private load(): Record<string, KnownHostEntry> {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw error
    }
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, KnownHostEntry>
    } catch {
      // fall through to the error below
    }
    // Refusing beats silently trusting every host again because the file was damaged.
    throw new Error(`The known hosts file ${this.file} is not a JSON object; fix or delete it, then reconnect to re-trust the boards.`)
  }

  private save(entries: Record<string, KnownHostEntry>): void {
    mkdirSync(dirname(this.file), { recursive: true })
    const temp = `${this.file}.${process.pid}.tmp`
    writeFileSync(temp, JSON.stringify(entries, null, 2) + '\n', { mode: 0o600 })
    renameSync(temp, this.file)
  }

  get(id: string): KnownHostEntry | undefined {
    return this.load()[id]
  }

  remember(id: string, entry: KnownHostEntry): void {
    this.save({ ...this.load(), [id]: entry })
  }

  forget(id: string): void {
    const entries = this.load()
    delete entries[id]
    this.save(entries)
  }
}

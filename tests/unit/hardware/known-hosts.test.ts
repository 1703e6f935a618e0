import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hostId, JsonFileKnownHosts, keyTypeOf, sha256Fingerprint } from '../../../src-main/hardware/known-hosts.ts'
import { requires } from '../../helpers/components.ts'

describe('known hosts', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'benchside-known-hosts-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('computes the same SHA256 fingerprint as OpenSSH ssh-keygen', requires('ssh-keygen'), () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')])
    const blob = Buffer.from(readFileSync(join(dir, 'k.pub'), 'utf8').split(' ')[1]!, 'base64')
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1]
    expect(sha256Fingerprint(blob)).toBe(expected)
    expect(keyTypeOf(blob)).toBe('ssh-ed25519')
  })

  it('names hosts as OpenSSH does', () => {
    expect(hostId('board.lan', 22)).toBe('board.lan')
    expect(hostId('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222')
  })

  it('remembers, reads back and forgets entries in one JSON file', () => {
    const file = join(dir, 'sub', 'known.json')
    const hosts = new JsonFileKnownHosts(file)
    expect(hosts.get('a')).toBeUndefined()
    hosts.remember('a', { fingerprint: 'SHA256:x', keyType: 'ssh-ed25519', addedAt: 1 })
    hosts.remember('[b]:2222', { fingerprint: 'SHA256:y', keyType: 'ssh-rsa', addedAt: 2 })
    expect(new JsonFileKnownHosts(file).get('a')).toEqual({ fingerprint: 'SHA256:x', keyType: 'ssh-ed25519', addedAt: 1 })
    hosts.forget('a')
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['[b]:2222'])
  })

  it('refuses a damaged file instead of trusting every host again', () => {
    const file = join(dir, 'known.json')
    writeFileSync(file, '[1, 2')
    expect(() => new JsonFileKnownHosts(file).get('a')).toThrow(/is not a JSON object; fix or delete it/)
  })
})

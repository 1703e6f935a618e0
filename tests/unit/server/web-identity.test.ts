// Web mode's token kept per data folder: private to its owner, reused while it stays private, replaced when it is not.
import { chmodSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadWebIdentity, rememberWebPort, webIdentityPath } from '../../../src-main/server/web-identity.ts'
import { tempHome } from '../../helpers/temp-home.ts'

describe.skipIf(process.platform === 'win32')('web identity', () => {
  let home: ReturnType<typeof tempHome>
  beforeEach(() => (home = tempHome()))
  afterEach(() => home.remove())

  it('makes a token in a 0600 file, keeps it and the last port across starts, and rotates it on request', () => {
    const first = loadWebIdentity(home.dir)
    expect(first.token).toMatch(/^[\w-]{32}$/)
    expect(first.port).toBeNull()
    expect(statSync(webIdentityPath(home.dir)).mode & 0o777).toBe(0o600)
    rememberWebPort(home.dir, first, 43210)
    expect(loadWebIdentity(home.dir)).toEqual({ token: first.token, port: 43210 })
    expect(statSync(webIdentityPath(home.dir)).mode & 0o777).toBe(0o600)
    const rotated = loadWebIdentity(home.dir, true)
    expect(rotated.token).not.toBe(first.token)
    expect(loadWebIdentity(home.dir).token).toBe(rotated.token)
  })

  it('never trusts a file others can read, a link, or one that holds something else', () => {
    const path = webIdentityPath(home.dir)
    const kept = loadWebIdentity(home.dir)
    chmodSync(path, 0o644)
    const afterChmod = loadWebIdentity(home.dir)
    expect(afterChmod.token).not.toBe(kept.token)
    expect(statSync(path).mode & 0o777).toBe(0o600)

    const elsewhere = join(home.dir, 'planted.json')
    writeFileSync(elsewhere, JSON.stringify({ token: 'x'.repeat(32), port: 1 }), { mode: 0o600 })
    rmSync(path)
    symlinkSync(elsewhere, path)
    const afterLink = loadWebIdentity(home.dir)
    expect(afterLink.token).not.toBe('x'.repeat(32))
    // The link was replaced, not written through.
    expect(JSON.parse(readFileSync(elsewhere, 'utf8')).token).toBe('x'.repeat(32))
    expect(statSync(path).isFile()).toBe(true)

    writeFileSync(path, JSON.stringify({ token: 'short', port: 99999 }), { mode: 0o600 })
    expect(loadWebIdentity(home.dir).token).not.toBe('short')
  })
})

// Benchside's SSH client against OpenSSH's own sshd, whichever server the other SSH tests use (they fall back to ssh2's
// server without sshd): the host key is trusted on first use under the fingerprint ssh-keygen prints, and known after.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JsonFileKnownHosts } from '../../../src-main/hardware/known-hosts.ts'
import { SshBoard } from '../../../src-main/hardware/ssh-board.ts'
import { requires } from '../../helpers/components.ts'
import { SshdFixture } from './sshd-fixture.ts'

describe('SSH board against OpenSSH sshd', requires('sshd', 'ssh-keygen'), () => {
  let sshd: SshdFixture
  let work: string
  const boards: SshBoard[] = []

  const board = (): SshBoard => {
    const b = new SshBoard({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      privateKeyPath: sshd.clientKey,
      knownHosts: new JsonFileKnownHosts(join(work, 'known-hosts.json')),
      remoteRoot: join(work, 'remote'),
      connectTimeoutMs: 10_000,
    })
    boards.push(b)
    return b
  }

  beforeAll(async () => {
    sshd = new SshdFixture()
    await sshd.start()
    work = mkdtempSync(join(tmpdir(), 'benchside-openssh-'))
  })
  afterAll(async () => {
    await Promise.all(boards.map((b) => b.close()))
    await sshd?.remove()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('trusts the host key on first use under the fingerprint ssh-keygen prints, and knows it the next time', async () => {
    const first = await board().connect()
    expect(first).toMatchObject({ firstSeen: true, fingerprint: sshd.hostFingerprint(), keyType: 'ssh-ed25519' })
    const again = await board().connect()
    expect(again).toMatchObject({ firstSeen: false, fingerprint: first.fingerprint })
  })
})

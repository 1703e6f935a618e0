// The SSH server the tests run against: OpenSSH's sshd where it is installed, else ssh2's own server.
// BENCHSIDE_TEST_SSH=ssh2 forces the latter, to test the fallback on a machine that has sshd.
import { Ssh2ServerFixture } from './ssh2-server-fixture.ts'
import { SshdFixture, sshdAvailable } from './sshd-fixture.ts'

export type SshFixture = SshdFixture | Ssh2ServerFixture

export const sshServerKind: 'sshd' | 'ssh2' = sshdAvailable() && process.env.BENCHSIDE_TEST_SSH !== 'ssh2' ? 'sshd' : 'ssh2'

export function newSshFixture(): SshFixture {
  return sshServerKind === 'sshd' ? new SshdFixture() : new Ssh2ServerFixture()
}

export { freePort } from './sshd-fixture.ts'

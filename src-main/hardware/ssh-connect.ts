// One SSH login for every host Benchside reaches (ARM boards, cluster login hosts): ssh2, host keys trusted on first use
// and checked after, and errors that say what was wrong and what to do.
import { readFileSync } from 'node:fs'
import type { Client, ConnectConfig } from 'ssh2'
import { BoardError } from './board.ts'
import { hostId, keyTypeOf, sha256Fingerprint, type KnownHosts } from './known-hosts.ts'

export interface SshHostSettings {
  host: string
  port?: number
  username: string
  /** A private key file; without one, the ssh-agent at SSH_AUTH_SOCK is used. */
  privateKeyPath?: string
  passphrase?: string
  /** Defaults to process.env.SSH_AUTH_SOCK when no key file is given. */
  agentSocket?: string
}

export interface HostKeyStatus {
  fingerprint: string
  keyType: string
  /** True when this connect recorded the key (trust on first use); false when it matched a recorded key. */
  firstSeen: boolean
}

/** How errors name what is being reached: "board", "login host"; where its settings are; how to forget its key. */
export interface SshSubject {
  label: string
  noun: string
  settings: string
  forgetKey: string
}

export interface SshConnectOptions extends SshHostSettings {
  knownHosts: KnownHosts
  subject: SshSubject
  connectTimeoutMs?: number
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET'])

function authConfig(options: SshConnectOptions): Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'> {
  const { privateKeyPath, passphrase, subject } = options
  if (privateKeyPath) {
    let privateKey: Buffer
    try {
      privateKey = readFileSync(privateKeyPath)
    } catch (error) {
      throw new BoardError(
        'AUTH',
        `Could not read the SSH key file ${privateKeyPath} for ${subject.label} (${(error as NodeJS.ErrnoException).code}) — check the path in the ${subject.settings}.`,
      )
    }
    return passphrase === undefined ? { privateKey } : { privateKey, passphrase }
  }
  const agent = options.agentSocket ?? process.env.SSH_AUTH_SOCK
  if (!agent) {
    throw new BoardError(
      'AUTH',
      `No SSH key file is set for ${options.username}@${options.host} and SSH_AUTH_SOCK is not set — set a key file in the ${subject.settings} or start ssh-agent.`,
    )
  }
  return { agent }
}

/** Logs in; the host key is remembered on first use and must match afterwards. Rejects with a BoardError. */
export async function connectSsh(options: SshConnectOptions): Promise<{ client: Client; hostKey: HostKeyStatus }> {
  // ssh2 is loaded on first connection: every host process imports this module, few of them reach a remote host.
  const { Client } = await import('ssh2')
  const port = options.port ?? 22
  const { host, subject } = options
  const known = hostId(host, port)
  const recorded = options.knownHosts.get(known)
  let offered: { fingerprint: string; keyType: string } | null = null
  const auth = authConfig(options)
  return new Promise((resolve, reject) => {
    const client = new Client()
    let settled = false
    const fail = (error: BoardError) => {
      if (settled) return
      settled = true
      client.end()
      reject(error)
    }
    client.on('ready', () => {
      if (settled) return
      settled = true
      const key = offered!
      if (!recorded) options.knownHosts.remember(known, { ...key, addedAt: Date.now() })
      resolve({ client, hostKey: { ...key, firstSeen: !recorded } })
    })
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (offered && recorded && offered.fingerprint !== recorded.fingerprint) {
        fail(
          new BoardError(
            'HOST_KEY',
            `The host key of ${known} has changed: Benchside trusted ${recorded.fingerprint} (${recorded.keyType}) but the host now offers ${offered.fingerprint} (${offered.keyType}). ` +
              `The connection was refused. If the ${subject.noun} was reinstalled, forget its host key (${subject.forgetKey}) and connect again; otherwise someone may be intercepting the connection.`,
          ),
        )
      } else if (error.level === 'client-authentication') {
        const via = options.privateKeyPath ? `the key file ${options.privateKeyPath}` : 'the ssh-agent keys'
        fail(
          new BoardError(
            'AUTH',
            `Authentication failed for ${options.username}@${host} with ${via} — check the key file / agent and that the public key is in the ${subject.noun}'s authorized_keys.`,
          ),
        )
      } else if ((error.code && UNREACHABLE_CODES.has(error.code)) || error.level === 'client-timeout') {
        fail(
          new BoardError(
            'UNREACHABLE',
            `Could not reach ${host}:${port} (${error.code ?? 'no SSH handshake in time'}) — check the address and that sshd runs.`,
          ),
        )
      } else {
        fail(new BoardError('UNREACHABLE', `The SSH connection to ${host}:${port} failed: ${error.message} — check the address and that sshd runs.`))
      }
    })
    client.on('close', () =>
      fail(new BoardError('UNREACHABLE', `The SSH connection to ${host}:${port} closed before login — check that sshd runs and accepts ${options.username}.`)),
    )
    try {
      client.connect({
        host,
        port,
        username: options.username,
        ...auth,
        readyTimeout: options.connectTimeoutMs ?? 20_000,
        hostVerifier: (key: Buffer) => {
          offered = { fingerprint: sha256Fingerprint(key), keyType: keyTypeOf(key) }
          return !recorded || recorded.fingerprint === offered.fingerprint
        },
      })
    } catch (error) {
      // ssh2 throws synchronously for a key it cannot parse, typically an encrypted key without the right passphrase.
      const file = options.privateKeyPath ?? '(agent)'
      const why = (error as Error).message
      fail(
        new BoardError(
          'AUTH',
          /passphrase|encrypted|decrypt/i.test(why)
            ? `The SSH key file ${file} for ${subject.label} is protected by a passphrase${options.passphrase === undefined ? '' : ', and the one given does not open it'}. ` +
                `Unlock the ${subject.noun} with its passphrase (Devices → Unlock; Benchside keeps it in memory only, until it quits), or load the key into ssh-agent (ssh-add ${file}) and remove the key file from the ${subject.settings}.`
            : `The SSH key file ${file} could not be used for ${subject.label}: ${why} — check the key file.`,
        ),
      )
    }
  })
}

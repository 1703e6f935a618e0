// Web mode in its own process, and the raw clients the robustness tests throw bad input with: whether a request
// kills the server can only be seen from outside its process.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { request, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './temp-home.ts'

export const INDEX_HTML = '<!doctype html><html><head><title>Benchside test page</title></head><body>benchside-test-index</body></html>\n'

export interface HttpReply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A real HTTP request; the path goes on the wire exactly as given (no URL normalisation, unlike fetch). */
export function http(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false, timeout: 10_000 },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer to ${options.method ?? 'GET'} ${options.path ?? '/'}`)))
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Sends raw bytes and returns whatever comes back before the server closes the connection (or the time is up). */
export function rawRequest(port: number, data: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(received)
    }
    const timer = setTimeout(done, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    socket.on('close', done)
    socket.on('error', done)
    socket.write(data)
  })
}

export interface ServerProcess {
  port: number
  token: string
  child: ChildProcess
  stderr: () => string
}

/** Starts web mode (tests/integration/server/serve-in-child.ts) on a data folder under `home`, with a stub page. */
export async function startServerProcess(home: string): Promise<ServerProcess> {
  const rendererDir = join(home, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), INDEX_HTML)
  const script = fileURLToPath(new URL('../integration/server/serve-in-child.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, join(home, 'data'), rendererDir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const line = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the server process exited early: ${stderr}`)
      return stdout.includes('\n') ? stdout.slice(0, stdout.indexOf('\n')) : null
    },
    30_000,
    'the server process to start',
  )
  const { port, token } = JSON.parse(line) as { port: number; token: string }
  return { port, token, child, stderr: () => stderr }
}

/** Stops the server process as a user would (stdin closed), killing it if it does not end within 5 s. */
export async function stopServerProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.stdin!.end()
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

/**
 * Whether the process still lives (after giving a crash the moment it needs) and still answers an API call; the
 * reason when not, with what the process printed.
 */
export async function stillServing(server: ServerProcess): Promise<string | null> {
  const { child, port, token } = server
  if (child.exitCode === null) await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 500))])
  if (child.exitCode !== null || child.signalCode !== null) return `the server process died (${child.exitCode ?? child.signalCode}):\n${server.stderr()}`
  const reply = await http(port, { method: 'POST', path: '/api/appInfo', headers: { Authorization: `Bearer ${token}` }, body: '{}' })
  return reply.status === 200 ? null : `appInfo answered ${reply.status}: ${reply.body}`
}

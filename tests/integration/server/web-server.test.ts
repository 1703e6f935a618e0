import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createCore, type Core } from '../../../src-main/core.ts'
import { CONTENT_SECURITY_POLICY } from '../../../src-main/desktop/security.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { startWebServer, type WebServer } from '../../../src-main/server/web-server.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'
import { http, INDEX_HTML } from '../../helpers/web-server-process.ts'

const SECRET = 'secret-outside-the-renderer-folder'

type Message = { id?: number; ok?: boolean; result?: unknown; error?: { code: string; message: string; field?: string }; event?: string; payload?: unknown }

/** A WebSocket client that keeps every message it receives and matches replies to calls by id. */
class Client {
  readonly messages: Message[] = []
  private nextId = 1
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message))
  }
  send(text: string): void {
    this.ws.send(text)
  }
  async call(method: string, args: unknown): Promise<Message> {
    const id = this.nextId++
    this.ws.send(JSON.stringify({ id, method, args }))
    return waitFor(() => this.messages.find((m) => m.id === id), 10_000, `the reply to ${method} #${id}`)
  }
  events(name: string): Message[] {
    return this.messages.filter((m) => m.event === name)
  }
}

/** Opens a WebSocket; resolves with the open socket, or with the HTTP status the server refused it with. */
function openSocket(url: string, options: { origin?: string; headers?: Record<string, string> } = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin: options.origin, headers: options.headers, handshakeTimeout: 10_000 })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0)
      req.destroy()
    })
    ws.once('error', reject)
  })
}

describe('web server', () => {
  let home: ReturnType<typeof tempHome>
  let rendererDir: string
  let core: Core
  const servers: WebServer[] = []
  const sockets: WebSocket[] = []
  let server: WebServer
  let port: number
  let origin: string

  const bearer = (token = server.token) => ({ Authorization: `Bearer ${token}` })
  const client = async (): Promise<Client> => {
    const ws = await openSocket(`ws://127.0.0.1:${port}/ws?token=${server.token}`, { origin })
    if (typeof ws === 'number') throw new Error(`the WebSocket was refused with ${ws}`)
    sockets.push(ws)
    const c = new Client(ws)
    return c
  }

  beforeEach(async () => {
    home = tempHome()
    rendererDir = join(home.dir, 'renderer')
    mkdirSync(join(rendererDir, 'assets'), { recursive: true })
    writeFileSync(join(rendererDir, 'index.html'), INDEX_HTML)
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app")\n')
    writeFileSync(join(home.dir, 'secret.txt'), SECRET)
    core = createCore({ dataDir: join(home.dir, 'data'), host: 'web', launch: nodeJobLauncher })
    server = await startWebServer({ core, rendererDir, port: 0 })
    servers.push(server)
    port = server.port
    origin = `http://127.0.0.1:${port}`
  })

  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate()
    for (const s of servers.splice(0)) await s.close()
    core.close()
    home.remove()
  })

  describe('startup', () => {
    it('listens on 127.0.0.1 on the port it reports, with a token of reasonable strength in the URL', () => {
      expect(port).toBeGreaterThan(0)
      expect(server.url).toBe(`http://127.0.0.1:${port}/?token=${server.token}`)
      expect(server.token.length).toBeGreaterThanOrEqual(24)
    })

    it('makes a new token for every start', async () => {
      const other = await startWebServer({ core, rendererDir, port: 0 })
      servers.push(other)
      expect(other.token).not.toBe(server.token)
      expect(other.port).not.toBe(server.port)
    })
  })

  describe('the page', () => {
    it('serves index.html with a Content-Security-Policy, Referrer-Policy no-referrer and nosniff', async () => {
      const reply = await http(port, { path: `/?token=${server.token}` })
      expect(reply.status).toBe(200)
      expect(reply.body).toBe(INDEX_HTML)
      expect(reply.headers['content-type']).toMatch(/^text\/html/)
      expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
      expect(reply.headers['content-security-policy']).toContain("script-src 'self'")
      expect(reply.headers['referrer-policy']).toBe('no-referrer')
      expect(reply.headers['x-content-type-options']).toBe('nosniff')
    })

    it('serves other files of the renderer folder, and 404 for missing ones, both with the security headers', async () => {
      const script = await http(port, { path: '/assets/app.js' })
      expect(script.status).toBe(200)
      expect(script.body).toBe('console.log("app")\n')
      const missing = await http(port, { path: '/assets/nope.js' })
      expect(missing.status).toBe(404)
      expect(missing.headers['referrer-policy']).toBe('no-referrer')
      expect(missing.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
    })

    it('refuses methods other than GET and HEAD for pages', async () => {
      expect((await http(port, { method: 'POST', path: '/' })).status).toBe(405)
      expect((await http(port, { method: 'DELETE', path: '/index.html' })).status).toBe(405)
      expect((await http(port, { method: 'HEAD', path: '/' })).status).toBe(200)
    })

    it.each([
      ['/../../etc/passwd'],
      ['/%2e%2e/%2e%2e/etc/passwd'],
      ['/..%2f..%2f..%2fetc%2fpasswd'],
      ['/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
      ['/../secret.txt'],
      ['/%2e%2e/secret.txt'],
      ['/..%2fsecret.txt'],
      ['/assets/../../secret.txt'],
      ['/assets/%2e%2e/%2e%2e/secret.txt'],
      ['/..\\secret.txt'],
      ['/%2e%2e%5csecret.txt'],
      ['//etc/passwd'],
    ])('does not serve files outside the renderer folder for %s', async (path) => {
      const reply = await http(port, { path })
      expect(reply.body).not.toContain(SECRET)
      expect(reply.body).not.toMatch(/root:.*:0:0:/)
      expect(reply.status).toBe(404)
    })

    it('answers 503 with a message when the renderer is not built', async () => {
      const emptyDir = join(home.dir, 'not-built')
      mkdirSync(emptyDir)
      const bare = await startWebServer({ core, rendererDir: emptyDir, port: 0 })
      servers.push(bare)
      const reply = await http(bare.port, { path: '/' })
      expect(reply.status).toBe(503)
      expect(reply.body).toMatch(/not built/)
      expect(reply.body).toMatch(/npm run build/)
      // The API still works without a UI.
      const api = await http(bare.port, { method: 'POST', path: '/api/listRuns', headers: bearer(bare.token), body: '{}' })
      expect(api.status).toBe(200)
    })
  })

  describe('POST /api/<method>', () => {
    it('answers a call with the right bearer token', async () => {
      const run = core.store.runs.create({ name: 'visible over http', kind: 'selftest' })
      const reply = await http(port, { method: 'POST', path: '/api/listRuns', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: '{}' })
      expect(reply.status).toBe(200)
      expect(reply.headers['content-type']).toMatch(/^application\/json/)
      const parsed = JSON.parse(reply.body) as { ok: boolean; result: { uuid: string; name: string }[] }
      expect(parsed.ok).toBe(true)
      expect(parsed.result.map((r) => [r.uuid, r.name])).toEqual([[run.uuid, 'visible over http']])
    })

    it('accepts the token in X-Benchside-Token too, and an empty body as no arguments', async () => {
      const reply = await http(port, { method: 'POST', path: '/api/listRuns', headers: { 'X-Benchside-Token': server.token } })
      expect(reply.status).toBe(200)
      expect(JSON.parse(reply.body)).toEqual({ ok: true, result: [] })
    })

    it('refuses a call without a token with 401', async () => {
      const reply = await http(port, { method: 'POST', path: '/api/listRuns', body: '{}' })
      expect(reply.status).toBe(401)
      expect(reply.body).toMatch(/token/)
    })

    it.each([
      ['a wrong token of another length', () => 'Bearer wrong'],
      ['a wrong token of the same length', (token: string) => `Bearer ${'x'.repeat(token.length)}`],
      ['the token with one character changed', (token: string) => `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`],
      ['the right token under another scheme', (token: string) => `Basic ${token}`],
      ['the token with something appended', (token: string) => `Bearer ${token}x`],
    ])('refuses %s with 401', async (_, authorization) => {
      const reply = await http(port, { method: 'POST', path: '/api/listRuns', headers: { Authorization: authorization(server.token) }, body: '{}' })
      expect(reply.status).toBe(401)
    })

    it('does not run the call when the token is wrong', async () => {
      const run = core.store.runs.create({ name: 'keep me', kind: 'selftest' })
      const reply = await http(port, { method: 'POST', path: '/api/deleteRun', headers: bearer('nope'), body: JSON.stringify({ run: run.uuid }) })
      expect(reply.status).toBe(401)
      expect(core.store.runs.summary(run.uuid).deleted).toBe(false)
    })

    it.each([['http://evil.example'], ['null'], ['http://127.0.0.1.evil.example'], ['https://127.0.0.1']])(
      'refuses Origin %s with 403, even with the right token, and does not run the call',
      async (badOrigin) => {
        const run = core.store.runs.create({ name: 'keep me', kind: 'selftest' })
        const reply = await http(port, {
          method: 'POST',
          path: '/api/deleteRun',
          headers: { ...bearer(), Origin: badOrigin },
          body: JSON.stringify({ run: run.uuid }),
        })
        expect(reply.status).toBe(403)
        expect(core.store.runs.summary(run.uuid).deleted).toBe(false)
      },
    )

    it('refuses an Origin on another port of 127.0.0.1', async () => {
      const reply = await http(port, { method: 'POST', path: '/api/listRuns', headers: { ...bearer(), Origin: `http://127.0.0.1:${port + 1}` } })
      expect(reply.status).toBe(403)
    })

    it('accepts its own origin, as 127.0.0.1 and as localhost', async () => {
      for (const own of [origin, `http://localhost:${port}`]) {
        const reply = await http(port, { method: 'POST', path: '/api/listRuns', headers: { ...bearer(), Origin: own }, body: '{}' })
        expect(reply.status, own).toBe(200)
      }
    })

    it('refuses a foreign Host header (DNS rebinding) with 403, for the API and for pages', async () => {
      const evilHost = { Host: `evil.example:${port}` }
      const api = await http(port, { method: 'POST', path: '/api/listRuns', headers: { ...bearer(), ...evilHost, Origin: `http://evil.example:${port}` } })
      expect(api.status).toBe(403)
      const apiNoOrigin = await http(port, { method: 'POST', path: '/api/listRuns', headers: { ...bearer(), ...evilHost } })
      expect(apiNoOrigin.status).toBe(403)
      const page = await http(port, { path: '/', headers: evilHost })
      expect(page.status).toBe(403)
      expect(page.body).not.toContain('benchside-test-index')
      expect((await http(port, { path: '/', headers: { Host: '127.0.0.1' } })).status).toBe(403)
      expect((await http(port, { path: '/', headers: { Host: `localhost:${port}` } })).status).toBe(200)
    })

    it('refuses GET on the API with 405', async () => {
      const reply = await http(port, { method: 'GET', path: '/api/listRuns', headers: bearer() })
      expect(reply.status).toBe(405)
    })

    it('answers a body that is not JSON with 400', async () => {
      const reply = await http(port, { method: 'POST', path: '/api/listRuns', headers: bearer(), body: '{not json' })
      expect(reply.status).toBe(400)
      expect(reply.body).toMatch(/not valid JSON/)
    })

    it('answers wrongly typed arguments and unknown methods with 400 and the error code', async () => {
      const invalid = await http(port, { method: 'POST', path: '/api/listRuns', headers: bearer(), body: JSON.stringify({ limit: 'ten' }) })
      expect(invalid.status).toBe(400)
      expect(JSON.parse(invalid.body)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'limit' } })
      const unknown = await http(port, { method: 'POST', path: '/api/dropAllTables', headers: bearer(), body: '{}' })
      expect(unknown.status).toBe(400)
      expect(JSON.parse(unknown.body)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    })
  })

  describe('WebSocket', () => {
    it('refuses a socket without a token with 401', async () => {
      expect(await openSocket(`ws://127.0.0.1:${port}/ws`, { origin })).toBe(401)
      expect(await openSocket(`ws://127.0.0.1:${port}/ws?token=`, { origin })).toBe(401)
    })

    it('refuses a socket with a wrong token with 401', async () => {
      expect(await openSocket(`ws://127.0.0.1:${port}/ws?token=${'x'.repeat(server.token.length)}`, { origin })).toBe(401)
    })

    it('refuses a socket from another origin with 403, even with the right token', async () => {
      expect(await openSocket(`ws://127.0.0.1:${port}/ws?token=${server.token}`, { origin: 'http://evil.example' })).toBe(403)
      expect(await openSocket(`ws://127.0.0.1:${port}/ws?token=${server.token}`, { origin: `http://evil.example:${port}` })).toBe(403)
    })

    it('refuses a socket that sends no Origin, as only non-browsers do, with 403', async () => {
      expect(await openSocket(`ws://127.0.0.1:${port}/ws?token=${server.token}`)).toBe(403)
    })

    it('refuses a socket with a foreign Host header with 403', async () => {
      const url = `ws://127.0.0.1:${port}/ws?token=${server.token}`
      const headers = { Host: `evil.example:${port}` }
      expect(await openSocket(url, { origin: `http://evil.example:${port}`, headers })).toBe(403)
      // With our own Origin, only the Host check can refuse it.
      expect(await openSocket(url, { origin, headers })).toBe(403)
    })

    it('refuses sockets on other paths with 404', async () => {
      expect(await openSocket(`ws://127.0.0.1:${port}/other?token=${server.token}`, { origin })).toBe(404)
    })

    it('answers calls with {id, ok, result}, matching ids', async () => {
      const run = core.store.runs.create({ name: 'over the socket', kind: 'selftest' })
      const c = await client()
      const reply = await c.call('listRuns', {})
      expect(reply.id).toBe(1)
      expect(reply.ok).toBe(true)
      expect((reply.result as { uuid: string }[]).map((r) => r.uuid)).toEqual([run.uuid])
      const detail = await c.call('getRun', { run: run.uuid.slice(0, 8) })
      expect(detail).toMatchObject({ id: 2, ok: true, result: { uuid: run.uuid, name: 'over the socket' } })
    })

    it('runs calls that change the store', async () => {
      const run = core.store.runs.create({ name: 'tag me', kind: 'selftest' })
      const c = await client()
      expect(await c.call('tagRun', { run: run.uuid, tag: 'from-ws' })).toMatchObject({ ok: true, result: { tags: ['from-ws'] } })
      expect(core.store.runs.summary(run.uuid).tags).toEqual(['from-ws'])
    })

    it('answers a wrongly typed argument with INVALID_ARGS naming the field', async () => {
      const c = await client()
      const reply = await c.call('listRuns', { limit: 'ten' })
      expect(reply).toMatchObject({ id: 1, ok: false, error: { code: 'INVALID_ARGS', field: 'limit' } })
      expect(reply.error?.message).toMatch(/limit/)
    })

    it('answers an unknown method with UNKNOWN_METHOD', async () => {
      const c = await client()
      expect(await c.call('dropAllTables', {})).toMatchObject({ id: 1, ok: false, error: { code: 'UNKNOWN_METHOD' } })
    })

    it('answers garbage frames with an error and keeps the connection open', async () => {
      const c = await client()
      const garbage = ['this is not json', '{"method":"listRuns","args":{}}', 'null', '[]', '{"id":"7","method":"listRuns"}', '']
      for (const [i, text] of garbage.entries()) {
        c.send(text)
        await waitFor(() => c.messages.filter((m) => m.id === -1).length === i + 1, 5_000, `the error reply to frame ${JSON.stringify(text)}`)
      }
      for (const reply of c.messages.filter((m) => m.id === -1)) {
        expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } })
        expect(reply.error?.message).toMatch(/Unreadable call/)
      }
      c.ws.send(Buffer.from([0xff, 0x00, 0xfe]), { binary: true })
      await waitFor(() => c.messages.filter((m) => m.id === -1).length === garbage.length + 1, 5_000, 'the error reply to a binary frame')
      expect(c.ws.readyState).toBe(WebSocket.OPEN)
      expect(await c.call('listRuns', {})).toMatchObject({ ok: true, result: [] })
    })

    it('delivers jobProgress events until a selftest job is finished, and the run is FINISHED in the store', async () => {
      const c = await client()
      const started = await c.call('startJob', { kind: 'selftest', params: { seconds: 0.5, metricsPerSecond: 20 }, name: 'ws selftest' })
      expect(started).toMatchObject({ ok: true, result: { kind: 'selftest', name: 'ws selftest' } })
      const uuid = (started.result as { uuid: string }).uuid

      type Progress = { runUuid: string; state: string; fraction: number }
      const progressOf = () =>
        c
          .events('jobProgress')
          .map((m) => m.payload as Progress)
          .filter((p) => p.runUuid === uuid)
      await waitFor(() => progressOf().some((p) => p.state === 'finished' || p.state === 'failed'), 25_000, 'the job to end')

      const progress = progressOf()
      const states = progress.map((p) => p.state)
      expect(states.at(-1)).toBe('finished')
      expect(states).toContain('running')
      expect(states.indexOf('running')).toBeLessThan(states.indexOf('finished'))
      expect(progress.at(-1)?.fraction).toBe(1)
      // Real progress from the job, not only the start and end markers.
      expect(progress.some((p) => p.state === 'running' && p.fraction > 0 && p.fraction < 1)).toBe(true)
      const fractions = progress.map((p) => p.fraction)
      expect(fractions).toEqual([...fractions].sort((a, b) => a - b))

      const run = core.store.runs.detail(uuid)
      expect(run.status).toBe('FINISHED')
      expect(run.error).toBeNull()
      expect(run.metrics.filter((m) => m.key === 'loss').map((m) => m.step)).toEqual(Array.from({ length: 10 }, (_, i) => i))
      expect(run.params).toMatchObject({ seconds: '0.5', metricsPerSecond: '20' })
      expect(run.artifacts.map((a) => a.path)).toEqual(['result.json'])
      expect(c.events('runsChanged').some((m) => (m.payload as { runUuids: string[] }).runUuids.includes(uuid))).toBe(true)
    })

    it('sends events to every connected socket, and stops sending to closed ones', async () => {
      const a = await client()
      const b = await client()
      b.ws.close()
      await waitFor(() => b.ws.readyState === WebSocket.CLOSED, 5_000, 'the socket to close')
      const run = core.store.runs.create({ name: 'tag me', kind: 'selftest' })
      await a.call('tagRun', { run: run.uuid, tag: 'x' })
      core.events.emit('runsChanged', { runUuids: [run.uuid] })
      await waitFor(() => a.events('runsChanged').length > 0, 5_000, 'the event')
      expect(a.events('runsChanged')[0]).toEqual({ event: 'runsChanged', payload: { runUuids: [run.uuid] } })
      expect(b.events('runsChanged')).toEqual([])
    })

    it('close() ends open sockets', async () => {
      const c = await client()
      const closed = new Promise<void>((resolve) => c.ws.once('close', () => resolve()))
      await server.close()
      servers.splice(servers.indexOf(server), 1)
      await closed
      expect(c.ws.readyState).toBe(WebSocket.CLOSED)
    })
  })
})

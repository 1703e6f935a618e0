// Web mode's uploads and downloads through a real server: what lands where, and what is refused.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { startWebServer, type WebServer } from '../../../src-main/server/web-server.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'
import { http, INDEX_HTML, rawRequest } from '../../helpers/web-server-process.ts'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** A POST whose body goes out in the given chunks (chunked encoding unless a Content-Length is set). */
function post(port: number, path: string, chunks: Buffer[], headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false, timeout: 10_000 }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to POST ${path}`)))
    // The server may answer (401, 413) and close before the whole body is out; the reply is what counts.
    req.on('error', (error) => (error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error)))
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe('web mode uploads and downloads', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  let server: WebServer
  let port: number
  let dataDir: string
  const LIMIT = 64 * 1024

  const auth = (token = server.token) => ({ Authorization: `Bearer ${token}` })
  const upload = (name: string, body: Buffer, query = '', headers: Record<string, string> = auth()) =>
    post(port, `/upload?name=${encodeURIComponent(name)}${query}`, [body], headers)
  const uploadsFolders = () => (existsSync(join(dataDir, 'uploads')) ? readdirSync(join(dataDir, 'uploads')) : [])

  beforeEach(async () => {
    home = tempHome()
    dataDir = join(home.dir, 'data')
    const rendererDir = join(home.dir, 'renderer')
    mkdirSync(rendererDir, { recursive: true })
    writeFileSync(join(rendererDir, 'index.html'), INDEX_HTML)
    // Two upload folders left from earlier starts: one two days old, one an hour old.
    for (const [id, ageHours] of [
      ['old0000000000000000000a', 48],
      ['new0000000000000000000a', 1],
    ] as const) {
      const folder = join(dataDir, 'uploads', id)
      mkdirSync(folder, { recursive: true })
      writeFileSync(join(folder, 'x.npz'), 'x')
      const t = (Date.now() - ageHours * 3600_000) / 1000
      utimesSync(folder, t, t)
    }
    core = createCore({ dataDir, host: 'web', launch: nodeJobLauncher })
    server = await startWebServer({ core, rendererDir, port: 0, maxUploadBytes: LIMIT })
    port = server.port
  })

  afterEach(async () => {
    await server.close()
    core.close()
    home.remove()
  })

  it('removes upload folders older than a day at start and keeps newer ones', () => {
    expect(uploadsFolders()).toEqual(['new0000000000000000000a'])
  })

  it('writes an upload into a fresh private folder and answers its absolute path', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251))
    const reply = await upload('data.npz', bytes, '', { ...auth(), Origin: `http://127.0.0.1:${port}` })
    expect(reply.status).toBe(200)
    const { path, folder, folderPath } = JSON.parse(reply.body.toString()) as { path: string; folder: string; folderPath: string }
    expect(folderPath).toBe(join(dataDir, 'uploads', folder))
    expect(path).toBe(join(folderPath, 'data.npz'))
    expect(readFileSync(path).equals(bytes)).toBe(true)
    expect(statSync(folderPath).mode & 0o777).toBe(0o700)
    // Every upload without a folder gets a new one.
    const second = JSON.parse((await upload('data.npz', bytes)).body.toString()) as { folder: string }
    expect(second.folder).not.toBe(folder)
  })

  it('puts several files, in class subfolders too, into one upload folder', async () => {
    const first = JSON.parse((await upload('yes/a.wav', Buffer.from('a'))).body.toString()) as { folder: string; folderPath: string }
    for (const name of ['yes/b.wav', 'no/c.wav', 'labels.txt']) {
      const reply = await upload(name, Buffer.from(name), `&folder=${first.folder}`)
      expect(reply.status, name).toBe(200)
      expect((JSON.parse(reply.body.toString()) as { path: string }).path).toBe(join(first.folderPath, name))
    }
    expect(readdirSync(first.folderPath).sort()).toEqual(['labels.txt', 'no', 'yes'])
    expect(readFileSync(join(first.folderPath, 'no', 'c.wav'), 'utf8')).toBe('no/c.wav')
    // The same name twice is refused and the first file kept.
    expect((await upload('yes/a.wav', Buffer.from('other'), `&folder=${first.folder}`)).status).toBe(409)
    expect(readFileSync(join(first.folderPath, 'yes', 'a.wav'), 'utf8')).toBe('a')
    // A folder id the server did not give out.
    expect((await upload('d.wav', Buffer.from('d'), '&folder=../../etc')).status).toBe(400)
    expect((await upload('d.wav', Buffer.from('d'), '&folder=zzzzzzzzzzzzzzzzzzzzzz')).status).toBe(404)
  })

  it('refuses names that could leave the upload folder, and writes nothing', async () => {
    const before = uploadsFolders()
    for (const name of ['../x', '..', '.', '/etc/passwd', 'a/../../x', 'a/b/c.wav', 'a\\..\\x', 'a\0b', '', 'a//b', 'yes/..']) {
      const reply = await upload(name, Buffer.from('x'))
      expect(reply.status, JSON.stringify(name)).toBe(400)
    }
    expect((await post(port, '/upload', [Buffer.from('x')], auth())).status).toBe(400)
    expect(uploadsFolders()).toEqual(before)
    expect(existsSync(join(home.dir, 'x'))).toBe(false)
  })

  it('answers 413 to an upload over the limit, declared or streamed, and keeps no partial file', async () => {
    const before = uploadsFolders()
    const declared = await post(port, '/upload?name=big.npz', [Buffer.alloc(10)], { ...auth(), 'Content-Length': String(LIMIT + 1) })
    expect(declared.status).toBe(413)
    const streamed = await post(
      port,
      '/upload?name=big.npz',
      Array.from({ length: 20 }, () => Buffer.alloc(8 * 1024)),
      auth(),
    )
    expect(streamed.status).toBe(413)
    expect(uploadsFolders()).toEqual(before)
    // Exactly the limit is fine.
    expect((await upload('edge.npz', Buffer.alloc(LIMIT))).status).toBe(200)
  })

  it('keeps nothing of an upload the client abandons halfway', async () => {
    const before = uploadsFolders()
    const head = `POST /upload?name=half.npz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 1000\r\n\r\n`
    // Half the declared body, then the connection is dropped.
    await rawRequest(port, head + 'x'.repeat(500), 300)
    await waitFor(() => JSON.stringify(uploadsFolders()) === JSON.stringify(before), 5_000, 'the half upload to be removed')
  })

  it('refuses uploads without the right token (401) or from another origin (403)', async () => {
    const before = uploadsFolders()
    expect((await upload('a.npz', Buffer.from('x'), '', {})).status).toBe(401)
    expect((await upload('a.npz', Buffer.from('x'), '', auth('wrong'))).status).toBe(401)
    expect((await upload('a.npz', Buffer.from('x'), '', { ...auth(), Origin: 'http://evil.example' })).status).toBe(403)
    expect((await upload('a.npz', Buffer.from('x'), '', { ...auth(), Host: 'evil.example' })).status).toBe(403)
    expect(uploadsFolders()).toEqual(before)
  })

  describe('downloads', () => {
    let run: string
    const weights = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256))

    beforeEach(() => {
      run = core.store.runs.create({ name: 'a model', kind: 'train', experiment: 'downloads' }).uuid
      core.store.runs.writeArtifact(run, 'model/model.json', '{"format":"layers-model"}')
      core.store.runs.writeArtifact(run, 'model/weights.bin', weights)
      // A file in the run's folder the store never recorded.
      writeFileSync(core.store.runs.artifactPath(run, 'model/stray.txt'), 'not an artifact')
    })

    const get = async (path: string, headers: Record<string, string> = {}) => {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 10_000 }, (res) => {
          const parts: Buffer[] = []
          res.on('data', (c: Buffer) => parts.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
        })
        req.on('error', reject)
        req.end()
      })
      return reply
    }

    it("streams a run's recorded artifact as an attachment named after its file", async () => {
      const reply = await get(`/download/${run}/model/weights.bin?token=${server.token}`)
      expect(reply.status).toBe(200)
      expect(reply.body.equals(weights)).toBe(true)
      expect(reply.headers['content-disposition']).toBe(`attachment; filename="weights.bin"; filename*=UTF-8''weights.bin`)
      expect(reply.headers['content-type']).toBe('application/octet-stream')
      expect(reply.headers['x-content-type-options']).toBe('nosniff')
      expect((await get(`/download/${run}/model/model.json?token=${server.token}`)).body.toString()).toBe('{"format":"layers-model"}')
    })

    it('answers 404 for anything not recorded as an artifact of that run', async () => {
      const other = core.store.runs.create({ name: 'other', kind: 'train', experiment: 'downloads' }).uuid
      for (const path of [
        `/download/${run}/model/stray.txt`,
        `/download/${run}/model%2F..%2F..%2F..%2Fbenchside.sqlite`,
        `/download/${run}/../../benchside.sqlite`,
        `/download/${other}/model/weights.bin`,
        `/download/${run.slice(0, 8)}/model/weights.bin`,
        `/download/${run}/`,
        `/download/${run}`,
        `/download/${run}/%2Fetc%2Fpasswd`,
      ]) {
        const reply = await http(port, { path: `${path}${path.includes('?') ? '&' : '?'}token=${server.token}` })
        expect([400, 404], path).toContain(reply.status)
        expect(reply.body, path).not.toContain('not an artifact')
      }
      // A deleted run's artifacts are gone too.
      core.store.runs.setDeleted(run, true)
      expect((await get(`/download/${run}/model/weights.bin?token=${server.token}`)).status).toBe(404)
    })

    it('refuses downloads without the right token (401), from another origin or host (403)', async () => {
      const path = `/download/${run}/model/weights.bin`
      expect((await get(path)).status).toBe(401)
      expect((await get(`${path}?token=wrong`)).status).toBe(401)
      expect((await get(`${path}?token=${server.token}`, { Origin: 'http://evil.example' })).status).toBe(403)
      expect((await get(`${path}?token=${server.token}`, { Host: 'evil.example' })).status).toBe(403)
    })
  })
  it('makes an NPZ export only for a model, with the token, and leaves nothing behind', async () => {
    const notModel = core.store.runs.create({ name: 'no model here', kind: 'selftest', experiment: 'exports' }).uuid
    const path = (model: string) => `/export-model/${model}/weights.npz`
    expect((await http(port, { path: path(notModel) })).status).toBe(401)
    expect((await http(port, { path: `${path(notModel)}?token=wrong` })).status).toBe(401)
    expect((await http(port, { path: `${path(notModel)}?token=${server.token}`, headers: { Origin: 'http://evil.example' } })).status).toBe(403)
    const refused = await http(port, { path: `${path(notModel)}?token=${server.token}` })
    expect(refused.status).toBe(404)
    expect(refused.body).toMatch(/holds no model/)
    expect((await http(port, { path: `${path('no-such-run')}?token=${server.token}` })).status).toBe(404)
    expect((await http(port, { path: `/export-model/${notModel}/weights.bin?token=${server.token}` })).status).toBe(404)
    // Each attempt wrote into a fresh folder of its own, removed once it was refused.
    expect(uploadsFolders().filter((f) => f.startsWith('.export-'))).toEqual([])
  })
})

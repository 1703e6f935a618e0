// Web mode while the renderer is rebuilt under it (another `npm start` or `npm run build`): the hashed assets are
// replaced, and web mode serves the new ones and answers 404 for the old, never dying of a file that went away.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempHome } from '../../helpers/temp-home.ts'
import { http, startServerProcess, stillServing, stopServerProcess, type ServerProcess } from '../../helpers/web-server-process.ts'

describe('web mode across a rebuild of the renderer', () => {
  let home: ReturnType<typeof tempHome>
  let server: ServerProcess

  beforeEach(async () => {
    home = tempHome()
    mkdirSync(join(home.dir, 'renderer', 'assets'), { recursive: true })
    writeFileSync(join(home.dir, 'renderer', 'assets', 'Room-old.js'), 'export const old = 1\n')
    server = await startServerProcess(home.dir)
  }, 60_000)
  afterEach(async () => {
    await stopServerProcess(server?.child)
    home.remove()
  })

  it('serves the files of the new build and 404s the old ones, and keeps serving', async () => {
    const assets = join(home.dir, 'renderer', 'assets')
    expect((await http(server.port, { path: '/assets/Room-old.js' })).status).toBe(200)
    rmSync(join(assets, 'Room-old.js'))
    writeFileSync(join(assets, 'Room-new.js'), 'export const fresh = 2\n')
    writeFileSync(join(home.dir, 'renderer', 'index.html'), '<!doctype html><title>new build</title>\n')

    expect((await http(server.port, { path: '/assets/Room-old.js' })).status).toBe(404)
    expect(await stillServing(server)).toBeNull()
    const fresh = await http(server.port, { path: '/assets/Room-new.js' })
    expect(fresh.status).toBe(200)
    expect(fresh.body).toContain('fresh')
    expect((await http(server.port, { path: '/' })).body).toContain('new build')
  })
})

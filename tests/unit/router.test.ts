import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../../src-main/core.ts'
import { nodeJobLauncher } from '../../src-main/jobs/node-launcher.ts'
import { BenchsideError } from '../../src-main/contract/index.ts'
import { tempHome } from '../helpers/temp-home.ts'

describe('router', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  beforeEach(() => {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
  })
  afterEach(() => {
    core.close()
    home.remove()
  })

  it('refuses a wrongly typed argument with an error naming the field', async () => {
    const reply = await core.router.handle('listRuns', { limit: 'ten' })
    expect(reply.ok).toBe(false)
    if (reply.ok) return
    expect(reply.error.code).toBe('INVALID_ARGS')
    expect(reply.error.field).toBe('limit')
    expect(reply.error.message).toMatch(/'limit'.*number/)
  })

  it('names nested fields of job params', async () => {
    const reply = await core.router.handle('startJob', { kind: 'selftest', params: { seconds: -1 } })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'params.seconds' } })
    expect(core.store.runs.list()).toEqual([])
  })

  it('refuses an unknown job kind, naming the kind field', async () => {
    const reply = await core.router.handle('startJob', { kind: 'mine-bitcoin', params: {} })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'kind' } })
  })

  it('refuses an unknown method', async () => {
    const reply = await core.router.handle('dropAllTables', {})
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
  })

  it.each([['__proto__'], ['constructor'], ['toString'], [42], [null]])('refuses %s as a method name', async (name) => {
    const reply = await core.router.handle(name, {})
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
  })

  it('passes valid calls to the service and returns its result', async () => {
    const reply = await core.router.handle('listRuns', {})
    expect(reply).toEqual({ ok: true, result: [] })
  })

  it('turns service errors into error replies, and the typed client into BenchsideError', async () => {
    const reply = await core.router.handle('getRun', { run: 'nope-not-a-run' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    await expect(core.api.getRun({ run: 'nope-not-a-run' })).rejects.toBeInstanceOf(BenchsideError)
  })
})

// readArtifact through the router: small JSON/text artifacts come back as text; bad paths, binary and oversized files are refused.
import { writeFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { MAX_ARTIFACT_TEXT_BYTES } from '../../../src-main/services/history.ts'
import { tempHome } from '../../helpers/temp-home.ts'

describe('readArtifact', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  let run: string
  const confusion = JSON.stringify({
    classNames: ['a', 'b'],
    confusion: [
      [3, 1],
      [0, 4],
    ],
  })

  beforeEach(() => {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
    run = core.store.runs.create({ name: 'with files', kind: 'evaluate', status: 'FINISHED' }).uuid
    core.store.runs.writeArtifact(run, 'confusion.json', confusion)
    core.store.runs.writeArtifact(run, 'model/weights.bin', new Uint8Array([1, 0, 2, 255, 0, 7]))
  })
  afterEach(() => {
    core.close()
    home.remove()
  })

  it('returns the text of a JSON artifact, by full uuid or prefix', async () => {
    expect(await core.router.handle('readArtifact', { run, path: 'confusion.json' })).toEqual({ ok: true, result: { text: confusion } })
    const byPrefix = await core.api.readArtifact({ run: run.slice(0, 8), path: 'confusion.json' })
    expect(JSON.parse(byPrefix.text)).toEqual({
      classNames: ['a', 'b'],
      confusion: [
        [3, 1],
        [0, 4],
      ],
    })
  })

  it.each([
    [{ path: 'confusion.json' }, 'run'],
    [{ run: 'x', path: '' }, 'path'],
    [{ run: 'x', path: '   ' }, 'path'],
    [{ run: 'x', path: 42 }, 'path'],
    [{ run: 'x' }, 'path'],
  ])('refuses malformed arguments %j, naming the field', async (args, field) => {
    const reply = await core.router.handle('readArtifact', args)
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field } })
  })

  it.each([['../../../etc/passwd'], ['/etc/passwd'], ['model/../../other/confusion.json'], ['..'], ['.']])(
    'refuses the path %s that leaves the run folder',
    async (path) => {
      const reply = await core.router.handle('readArtifact', { run, path })
      expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'path' } })
      if (!reply.ok) expect(reply.error.message).toMatch(/inside the run's folder/)
    },
  )

  it('says so when the run or the artifact does not exist, or the path is a folder', async () => {
    expect(await core.router.handle('readArtifact', { run: 'feedbeef', path: 'confusion.json' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    })
    const missing = await core.router.handle('readArtifact', { run, path: 'nothing.json' })
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', field: 'path' } })
    if (!missing.ok) expect(missing.error.message).toMatch(/has no artifact 'nothing\.json'/)
    expect(await core.router.handle('readArtifact', { run, path: 'model' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', field: 'path' } })
  })

  it('refuses binary files', async () => {
    const reply = await core.router.handle('readArtifact', { run, path: 'model/weights.bin' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'path' } })
    if (!reply.ok) expect(reply.error.message).toMatch(/binary/)
    core.store.runs.writeArtifact(run, 'latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9]))
    expect(await core.router.handle('readArtifact', { run, path: 'latin1.txt' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } })
  })

  it('refuses files over 5 MB and reads one of exactly 5 MB', async () => {
    writeFileSync(core.store.runs.artifactPath(run, 'big.json'), 'x'.repeat(MAX_ARTIFACT_TEXT_BYTES + 1))
    const reply = await core.router.handle('readArtifact', { run, path: 'big.json' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'path' } })
    if (!reply.ok) expect(reply.error.message).toMatch(/5\.0 MB.*under 5 MB/)
    writeFileSync(core.store.runs.artifactPath(run, 'big.json'), 'y'.repeat(MAX_ARTIFACT_TEXT_BYTES))
    const ok = await core.api.readArtifact({ run, path: 'big.json' })
    expect(ok.text.length).toBe(MAX_ARTIFACT_TEXT_BYTES)
  })
})

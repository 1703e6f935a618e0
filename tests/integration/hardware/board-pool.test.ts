import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import { BoardError } from '../../../src-main/hardware/board.ts'
import { BoardPool } from '../../../src-main/hardware/board-pool.ts'

describe('board pool on the local board', requires('cc'), () => {
  let dataDir: string
  let pool: BoardPool

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'benchside-pool-'))
    pool = new BoardPool({ dataDir })
    await pool.get().info()
  })

  afterAll(async () => {
    await pool.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('uses the local board when none is configured', () => {
    expect(pool.defaultId).toBe('local')
    expect(pool.get().kind).toBe('local')
  })

  it('never lets two jobs measure on one board at once, and serves them in order', async () => {
    const spans: { job: string; start: number; end: number }[] = []
    const job = (name: string) =>
      pool.withBoard(undefined, async (board) => {
        const start = performance.now()
        await board.run('sleep', { seconds: 0.3, debug: true })
        await board.run('gemm_f32', { m: 32, n: 32, k: 32, repeat: 2 })
        spans.push({ job: name, start, end: performance.now() })
      })
    await Promise.all([job('a'), job('b'), job('c')])
    expect(spans.map((s) => s.job)).toEqual(['a', 'b', 'c'])
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end)
  })

  it('cancels a job waiting for the board without running it, and frees the board after a failing job', async () => {
    let ranCancelled = false
    const first = pool.withBoard('local', (board) => board.run('sleep', { seconds: 0.5, debug: true }))
    const controller = new AbortController()
    const waiting = pool.withBoard(
      'local',
      async () => {
        ranCancelled = true
      },
      { signal: controller.signal },
    )
    expect(pool.status('local')).toEqual({ busy: true, waiting: 1 })
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ reason: 'CANCELLED' })
    expect(pool.status('local')).toEqual({ busy: true, waiting: 0 })
    await first
    expect(ranCancelled).toBe(false)

    await expect(pool.withBoard('local', (b) => b.run('gemm_f32', { m: 4, inject_error: true }))).rejects.toBeInstanceOf(BoardError)
    expect(pool.status('local')).toEqual({ busy: false, waiting: 0 })
    expect(await pool.withBoard('local', async () => 'free')).toBe('free')
  })

  it('refuses an unknown board id, listing the known ones', () => {
    expect(() => pool.get('nope')).toThrow("No board has the id 'nope'; the known boards are local.")
  })
})

// How the renderer turns bursts of change events into requests: never two at once, at most one per period, and one
// more after the last event, so what is shown ends up current.
import { describe, expect, it } from 'vitest'
import { coalesce, coalesceEach } from '../../../src-renderer/lib/coalesce.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('coalesce', () => {
  it('runs a burst of triggers once, after the period', async () => {
    let runs = 0
    const trigger = coalesce(() => runs++, 30)
    for (let i = 0; i < 20; i++) trigger()
    expect(runs).toBe(0)
    await sleep(80)
    expect(runs).toBe(1)
  })

  it('never runs twice at once, and runs once more for triggers that came while it ran', async () => {
    let running = 0
    let most = 0
    let runs = 0
    const trigger = coalesce(async () => {
      running++
      most = Math.max(most, running)
      runs++
      await sleep(60)
      running--
    }, 10)
    trigger()
    await sleep(30)
    // Running now: these three ask for one more run, not three.
    trigger()
    trigger()
    trigger()
    await sleep(250)
    expect(most).toBe(1)
    expect(runs).toBe(2)
  })

  it('keeps each key apart', async () => {
    const seen: string[] = []
    const trigger = coalesceEach((key) => seen.push(key), 20)
    for (const key of ['a', 'b', 'a', 'b', 'a']) trigger(key)
    await sleep(80)
    expect(seen.sort()).toEqual(['a', 'b'])
  })
})

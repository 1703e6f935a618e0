import { describe, expect, it } from 'vitest'
import { FifoMutex } from '../../../src-main/hardware/board-pool.ts'

describe('FifoMutex', () => {
  it('grants the lock in arrival order, one holder at a time', async () => {
    const mutex = new FifoMutex()
    const order: string[] = []
    let holders = 0
    const task = async (name: string) => {
      const release = await mutex.acquire()
      holders++
      expect(holders).toBe(1)
      order.push(name)
      await new Promise((r) => setTimeout(r, 5))
      holders--
      release()
    }
    await Promise.all(['a', 'b', 'c', 'd'].map(task))
    expect(order).toEqual(['a', 'b', 'c', 'd'])
    expect(mutex.locked).toBe(false)
  })

  it('drops a waiter whose signal aborts, and a double release frees only once', async () => {
    const mutex = new FifoMutex()
    const release = await mutex.acquire()
    const controller = new AbortController()
    const aborted = mutex.acquire(controller.signal, () => new Error('gave up waiting'))
    const next = mutex.acquire()
    controller.abort()
    await expect(aborted).rejects.toThrow('gave up waiting')
    expect(mutex.waiting).toBe(1)
    release()
    release()
    const releaseNext = await next
    expect(mutex.locked).toBe(true)
    releaseNext()
    expect(mutex.locked).toBe(false)
  })

  it('refuses at once when the signal is already aborted', async () => {
    const mutex = new FifoMutex()
    const hold = await mutex.acquire()
    await expect(mutex.acquire(AbortSignal.abort())).rejects.toThrow(/Cancelled/)
    hold()
  })
})

// Task result lines: every message a job sends survives the file, non-finite numbers included; a line still being
// written waits; garbage is reported as such, never thrown.
import { describe, expect, it } from 'vitest'
import { decodeLines, encodeLine, TaskMessage } from '../../../../src-main/jobs/cluster/task-lines.ts'

describe('task lines', () => {
  it('round-trips metrics with NaN and ±Infinity', () => {
    const message = { type: 'metrics' as const, points: [1, Number.NaN, Infinity, -Infinity].map((value, step) => ({ key: 'loss', value, step, time: 5 })) }
    const { messages, consumed } = decodeLines(Buffer.from(encodeLine(message) + '\n'))
    expect(messages).toEqual([message])
    expect(consumed).toBe(Buffer.byteLength(encodeLine(message)) + 1)
    expect(TaskMessage.safeParse(messages[0]).success).toBe(true)
  })

  it('leaves a last line without its newline for the next read', () => {
    const done = encodeLine({ type: 'done' })
    const chunk = Buffer.from(`${encodeLine({ type: 'param', key: 'a', value: '1' })}\n${done.slice(0, 5)}`)
    const { messages, consumed } = decodeLines(chunk)
    expect(messages).toEqual([{ type: 'param', key: 'a', value: '1' }])
    expect(chunk.subarray(consumed).toString()).toBe(done.slice(0, 5))
    expect(decodeLines(Buffer.from('no newline yet'))).toEqual({ messages: [], consumed: 0 })
  })

  it('turns a garbled line into a message the schema refuses', () => {
    const { messages } = decodeLines(Buffer.from('{"type":"cells","cells":[{"scope":1}]}\n{oops\n'))
    expect(messages).toHaveLength(2)
    for (const message of messages) expect(TaskMessage.safeParse(message).success).toBe(false)
  })
})

// A task's messages as JSON lines on the cluster's shared file system: what a local job sends over its process channel.
// JSON has no NaN or ±Infinity (a diverged loss is a real metric), so those are written as tagged objects.
import { z } from 'zod'
import type { FromJob } from '../protocol.ts'

const NON_FINITE = '$number'

export function encodeLine(message: FromJob): string {
  return JSON.stringify(message, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value))
}

function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value)
    if (keys.length === 1 && keys[0] === NON_FINITE) return Number((value as Record<string, string>)[NON_FINITE])
  }
  return value
}

/**
 * The complete lines in a chunk read from a result file: the messages, and how many bytes they used. A last line
 * without its newline is still being written and is read next time.
 */
export function decodeLines(chunk: Buffer): { messages: unknown[]; consumed: number } {
  const end = chunk.lastIndexOf(0x0a)
  if (end < 0) return { messages: [], consumed: 0 }
  const messages = chunk
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line, revive) as unknown
      } catch {
        return { type: 'garbled', line: line.slice(0, 200) }
      }
    })
  return { messages, consumed: end + 1 }
}

/** A sweep cell as the store keeps it (store/sweeps.ts). */
export const Cell = z.object({ scope: z.string(), sigma: z.number(), repeat: z.number().int(), correct: z.number(), count: z.number() })

/** What a task may write: a file on a shared file system is input like any other, checked before it reaches the store. */
export const TaskMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), fraction: z.number(), phase: z.string(), message: z.string() }),
  // Values as the job sent them: any number, NaN and ±Infinity included (the contract's MetricPoint spells those out).
  z.object({
    type: z.literal('metrics'),
    points: z.array(z.object({ key: z.string(), value: z.custom<number>((v) => typeof v === 'number'), step: z.number(), time: z.number() })),
  }),
  z.object({ type: z.literal('cells'), cells: z.array(Cell) }),
  z.object({ type: z.literal('param'), key: z.string(), value: z.string() }),
  z.object({ type: z.literal('artifact'), path: z.string(), sha256: z.string(), size: z.number() }),
  z.object({ type: z.literal('result'), value: z.unknown() }),
  z.object({ type: z.literal('done') }),
  z.object({ type: z.literal('error'), message: z.string() }),
])
export type TaskMessage = z.infer<typeof TaskMessage>

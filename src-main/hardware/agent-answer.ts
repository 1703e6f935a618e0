// Turns what the board agent printed into an AgentAnswer or a BoardError, and an info answer into BoardInfo.
// Shared by every board that runs the C agent, so local and SSH boards fail with the same sentences.
import { z } from 'zod'
import { BoardError, type AgentAnswer, type AgentOperation, type BoardInfo, type BoardKind } from './board.ts'

export interface AgentExit {
  stdout: string
  stderr: string
  code: number | null
  signal: string | null
}

function excerpt(text: string, lines = 6): string {
  const kept = text.trim().split('\n').slice(0, lines).join(' | ')
  return kept.length > 600 ? kept.slice(0, 600) + '…' : kept
}

/** The agent prints exactly one JSON object; anything else means it crashed or is not the agent. */
export function parseAgentOutput(exit: AgentExit, operation: AgentOperation, boardLabel: string): AgentAnswer {
  const text = exit.stdout.trim()
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
    const stderr = excerpt(exit.stderr)
    throw new BoardError(
      'PROTOCOL',
      `The board agent on ${boardLabel} ${how} without a JSON answer to '${operation}'` +
        (stderr ? ` (its error output: ${stderr})` : '') +
        '. It may have run out of memory or crashed; try smaller sizes, and report it if it persists.',
    )
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new BoardError('PROTOCOL', `The board agent on ${boardLabel} answered '${operation}' with something other than a JSON object.`)
  }
  const record = answer as Record<string, unknown>
  if (record.ok === true) return record as AgentAnswer
  const error = typeof record.error === 'string' ? record.error : 'no error message'
  if (error.includes('wrong answer')) {
    throw new BoardError(
      'WRONG_ANSWER',
      `The board agent on ${boardLabel} computed a wrong answer for '${operation}': ${error}. The measurement was discarded; ` +
        'check the compiler on the board (flags such as -ffast-math, a broken SIMD path) before trusting its numbers.',
    )
  }
  throw new BoardError('AGENT', `The board agent on ${boardLabel} refused '${operation}': ${error}.`)
}

export function timeoutError(operation: AgentOperation, boardLabel: string, timeoutMs: number): BoardError {
  return new BoardError(
    'TIMEOUT',
    `The board agent on ${boardLabel} did not answer '${operation}' within ${(timeoutMs / 1000).toFixed(1)} s and was stopped. ` +
      'Use smaller sizes or fewer repeats, or raise the timeout.',
  )
}

export function cancelledError(operation: AgentOperation, boardLabel: string): BoardError {
  return new BoardError('CANCELLED', `The '${operation}' run on ${boardLabel} was cancelled and the agent was stopped.`)
}

const InfoAnswer = z.object({
  agent_version: z.string(),
  protocol: z.number().int(),
  arch: z.string(),
  os: z.string().optional(),
  hostname: z.string().optional(),
  compiler: z.string(),
  cflags: z.string(),
  cores: z.number().int().positive(),
  openmp: z.boolean(),
  simd: z.string(),
  simd_paths: z.array(z.string()),
  int8_paths: z.array(z.string()),
  popcount_paths: z.array(z.string()),
  caches: z.array(z.object({ level: z.number().int(), type: z.string(), size_bytes: z.number().int() })),
  operations: z.array(z.string()),
})

export function toBoardInfo(answer: AgentAnswer, boardId: string, kind: BoardKind, boardLabel: string): BoardInfo {
  const parsed = InfoAnswer.safeParse(answer)
  if (!parsed.success) {
    throw new BoardError(
      'PROTOCOL',
      `The board agent on ${boardLabel} gave an 'info' answer Benchside does not understand (${parsed.error.issues[0]?.path.join('.')}); the agent and Benchside versions may not match.`,
    )
  }
  const a = parsed.data
  return {
    boardId,
    kind,
    agentVersion: a.agent_version,
    protocol: a.protocol,
    arch: a.arch,
    os: a.os ?? null,
    hostname: a.hostname ?? null,
    compiler: a.compiler,
    cflags: a.cflags,
    cores: a.cores,
    openmp: a.openmp,
    simd: a.simd,
    simdPaths: a.simd_paths,
    int8Paths: a.int8_paths,
    popcountPaths: a.popcount_paths,
    caches: a.caches.map((c) => ({ level: c.level, type: c.type, sizeBytes: c.size_bytes })),
    operations: a.operations,
  }
}

/** Serialises arguments for the agent's stdin, with the operation name under "op". */
export function agentInput(operation: AgentOperation, args: Readonly<Record<string, unknown>>): string {
  if ('op' in args) throw new BoardError('AGENT', `Pass the operation as the first argument, not as an 'op' field.`)
  return JSON.stringify({ op: operation, ...args }) + '\n'
}

import { describe, expect, it } from 'vitest'
import { agentInput, parseAgentOutput } from '../../../src-main/hardware/agent-answer.ts'
import { BoardError } from '../../../src-main/hardware/board.ts'

const exit = (stdout: string, code: number | null = 0, stderr = '', signal: string | null = null) => ({ stdout, stderr, code, signal })

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (error instanceof BoardError) return `${error.reason}: ${error.message}`
    throw error
  }
  return 'no error'
}

describe('agent answers', () => {
  it('returns an ok answer as it is', () => {
    expect(parseAgentOutput(exit('{"ok":true,"op":"info","cores":2}\n'), 'info', 'b')).toEqual({ ok: true, op: 'info', cores: 2 })
  })

  it('turns a wrong answer into WRONG_ANSWER and a refusal into AGENT', () => {
    expect(reasonOf(() => parseAgentOutput(exit('{"ok":false,"error":"wrong answer: C[1][2] = 3, the reference gives 4"}', 1), 'gemm_i8', 'pi@b:22'))).toMatch(
      /^WRONG_ANSWER: The board agent on pi@b:22 computed a wrong answer for 'gemm_i8': wrong answer: C\[1\]\[2\] = 3/,
    )
    expect(reasonOf(() => parseAgentOutput(exit('{"ok":false,"error":"argument \'m\' must be an integer from 1 to 9"}', 1), 'gemm_f32', 'b'))).toBe(
      "AGENT: The board agent on b refused 'gemm_f32': argument 'm' must be an integer from 1 to 9.",
    )
  })

  it('reports a crash without JSON with the signal and the error output', () => {
    expect(reasonOf(() => parseAgentOutput(exit('', null, 'Segmentation fault\n', 'SIGSEGV'), 'conv2d', 'b'))).toMatch(
      /^PROTOCOL: The board agent on b was killed by SIGSEGV without a JSON answer to 'conv2d' \(its error output: Segmentation fault\)/,
    )
  })

  it('puts the operation under "op" and refuses a second one in the arguments', () => {
    expect(JSON.parse(agentInput('gemm_f32', { m: 4, keep: [1, 0.5] }))).toEqual({ op: 'gemm_f32', m: 4, keep: [1, 0.5] })
    expect(() => agentInput('gemm_f32', { op: 'info' })).toThrow(/not as an 'op' field/)
  })
})

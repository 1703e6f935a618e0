// The interfaces boards implement (agent boards: local, SSH; analog boards build on BoardBase), value types, the error.
// Jobs talk to a Board and never care how the agent is reached.
import { BenchsideError, type ErrorCode } from '../contract/index.ts'

export type AgentOperation = 'info' | 'peak_flops' | 'bandwidth' | 'gemm_f32' | 'gemm_i8' | 'gemm_bitserial' | 'conv2d' | 'network' | 'sleep'

/** The flat JSON object the agent reads (docs/board-agent.md lists the keys per operation). */
export type AgentArgs = Readonly<Record<string, string | number | boolean | null | readonly number[]>>

/** A successful agent answer; the fields beyond ok/op depend on the operation. */
export interface AgentAnswer {
  ok: true
  op: string
  [field: string]: unknown
}

export interface CacheInfo {
  level: number
  type: string
  sizeBytes: number
}

export interface BoardInfo {
  boardId: string
  kind: BoardKind
  agentVersion: string
  protocol: number
  arch: string
  os: string | null
  hostname: string | null
  compiler: string
  cflags: string
  cores: number
  openmp: boolean
  /** Best fp32 SIMD path compiled in: avx512, avx2, neon or scalar. */
  simd: string
  simdPaths: string[]
  int8Paths: string[]
  popcountPaths: string[]
  caches: CacheInfo[]
  operations: string[]
}

export interface BoardCapabilities {
  operations: string[]
  simdPaths: string[]
  int8Paths: string[]
  popcountPaths: string[]
  openmp: boolean
  cores: number
  caches: CacheInfo[]
}

export type BoardKind = 'local' | 'ssh'

export interface RunOptions {
  /** The agent is killed when it has not answered by then. */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * What every board answers, whatever it computes. Agent boards (local, SSH) add `run(operation)`; analog boards
 * (serial-board.ts) add slots and vector runs, which do not fit flat JSON operations.
 */
export interface BoardBase<Info, Capabilities> {
  readonly id: string
  info(): Promise<Info>
  capabilities(): Promise<Capabilities>
  close(): Promise<void>
}

export interface Board extends BoardBase<BoardInfo, BoardCapabilities> {
  readonly kind: BoardKind
  /** Compiles the agent if needed and asks it what the board is. Cached after the first call. */
  info(): Promise<BoardInfo>
  run(operation: AgentOperation, args?: AgentArgs, options?: RunOptions): Promise<AgentAnswer>
}

export type BoardErrorReason =
  'UNREACHABLE' | 'AUTH' | 'HOST_KEY' | 'COMPILE' | 'TIMEOUT' | 'CANCELLED' | 'WRONG_ANSWER' | 'AGENT' | 'PROTOCOL' | 'SOURCE' | 'BUSY'

const CODE_OF: Record<BoardErrorReason, ErrorCode> = {
  UNREACHABLE: 'UNAVAILABLE',
  AUTH: 'UNAUTHORIZED',
  HOST_KEY: 'UNAUTHORIZED',
  COMPILE: 'UNAVAILABLE',
  TIMEOUT: 'UNAVAILABLE',
  CANCELLED: 'CONFLICT',
  WRONG_ANSWER: 'INTERNAL',
  AGENT: 'INVALID_ARGS',
  PROTOCOL: 'INTERNAL',
  SOURCE: 'INTERNAL',
  BUSY: 'CONFLICT',
}

/** A board failure; `reason` says which, the message says what to check. */
export class BoardError extends BenchsideError {
  readonly reason: BoardErrorReason
  constructor(reason: BoardErrorReason, message: string) {
    super({ code: CODE_OF[reason], message })
    this.name = 'BoardError'
    this.reason = reason
  }
}

export function capabilitiesOf(info: BoardInfo): BoardCapabilities {
  return {
    operations: info.operations,
    simdPaths: info.simdPaths,
    int8Paths: info.int8Paths,
    popcountPaths: info.popcountPaths,
    openmp: info.openmp,
    cores: info.cores,
    caches: info.caches,
  }
}

/** A board's info(), asked once: later calls share the answer, and a failed attempt is forgotten so the next retries. */
export function onceInfo(load: () => Promise<BoardInfo>): () => Promise<BoardInfo> {
  let cached: Promise<BoardInfo> | null = null
  return () =>
    (cached ??= load().catch((error: unknown) => {
      cached = null
      throw error
    }))
}

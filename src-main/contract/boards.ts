// Boards (this computer, ARM boards over SSH), their hardware limits, operator rooflines and the latency table.
import { z } from 'zod'
import { method } from './define.ts'

const BoardId = z.string().trim().min(1).max(64)

export const BoardSummary = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['local', 'ssh']),
  address: z.string(),
  fingerprint: z.string().nullable(),
})
export type BoardSummary = z.infer<typeof BoardSummary>

export const BoardTest = z.object({
  id: z.string(),
  arch: z.string(),
  os: z.string().nullable(),
  cores: z.number(),
  simd: z.string(),
  compiler: z.string(),
  cflags: z.string(),
  openmp: z.boolean(),
  agentVersion: z.string(),
  operations: z.array(z.string()),
})

export const AddBoardArgs = z.object({
  id: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'A board id is lower-case letters, digits, - and _ (up to 41 characters).'),
  name: z.string().trim().min(1).max(200).optional(),
  host: z.string().trim().min(1, 'Give the board’s host name or address.').max(255),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().trim().min(1, 'Give the user to log in as.').max(64),
  /** A private key file; without one, the ssh-agent (SSH_AUTH_SOCK) is used. */
  keyPath: z.string().trim().min(1).optional(),
  /** The key file's passphrase: kept in this process's memory only, never written anywhere. */
  passphrase: z.string().min(1).max(1024).optional(),
})

export const RooflineParams = z.object({
  board: BoardId.default('local'),
  sizes: z.array(z.number().int().min(8).max(4096)).min(1).max(8).default([256, 512, 1024]),
  bits: z.array(z.number().int().min(1).max(8)).max(8).default([1, 2, 4]),
  threads: z.number().int().min(1).max(256).default(1),
  /** Measure again even when the latency table has a configuration. */
  force: z.boolean().default(false),
})

export const LayerLatencyParams = z.object({
  board: BoardId.default('local'),
  model: z.string().trim().min(1, 'Give a model id (benchside models list).'),
  /** One entry per dense/conv layer, in order; omitted = keep everything at 32 bits. */
  policy: z.array(z.object({ keep: z.number().gt(0).max(1), bits: z.number().int().min(1).max(32) })).optional(),
})

/** What a roofline job measures; RooflineStudy adds which run measured it and when. */
export const RooflineMeasurement = z.object({
  board: z.object({ id: z.string(), agentVersion: z.string(), arch: z.string(), simd: z.string(), cores: z.number(), cflags: z.string() }),
  peakOpsPerSecond: z.number(),
  bandwidth: z.array(z.object({ level: z.string(), bytesPerSecond: z.number(), workingSetBytes: z.number() })),
  ridges: z.array(z.object({ level: z.string(), intensity: z.number() })),
  operators: z.array(
    z.object({
      name: z.string(),
      kernel: z.string(),
      n: z.number(),
      bits: z.number().nullable(),
      intensity: z.number(),
      achievedOpsPerSecond: z.number(),
      ceilingOpsPerSecond: z.number(),
      fractionOfCeiling: z.number(),
      memoryLevel: z.string(),
      binding: z.string(),
      medianS: z.number(),
      speedupOverF32: z.number().nullable(),
    }),
  ),
})
export type RooflineMeasurement = z.infer<typeof RooflineMeasurement>
export const RooflineStudy = RooflineMeasurement.extend({ runUuid: z.string(), measuredAt: z.number() })
export type RooflineStudy = z.infer<typeof RooflineStudy>

export const LayerLatencyMeasurement = z.object({
  layers: z.array(
    z.object({
      id: z.string(),
      op: z.string(),
      kernel: z.string(),
      medianS: z.number(),
      keep: z.number(),
      bits: z.number(),
      ops: z.number(),
      /** Bytes moved at least once (weights at their bits, fp32 activations): ops / bytes places the layer on the roofline. Absent in older results. */
      bytes: z.number().optional(),
    }),
  ),
  totalS: z.number(),
  skipped: z.array(z.string()),
})
export type LayerLatencyMeasurement = z.infer<typeof LayerLatencyMeasurement>
/**
 * `model`: the model the timing run timed, which may be another model of the same architecture and weight shapes
 * (timings are kept by architecture, layer shapes and policy, not by model); null for runs that did not say.
 */
export const LayerLatencyResult = LayerLatencyMeasurement.extend({ runUuid: z.string(), measuredAt: z.number(), model: z.string().nullable() })
export type LayerLatencyResult = z.infer<typeof LayerLatencyResult>

const MeasurableOperation = z.enum(['peak_flops', 'bandwidth', 'gemm_f32', 'gemm_i8', 'gemm_bitserial', 'conv2d', 'network'])

export const boardMethods = {
  measureOperation: method(
    z.object({
      board: BoardId.default('local'),
      operation: MeasurableOperation,
      /** The agent's arguments for the operation (docs/board-agent.md), e.g. {m: 512, n: 512, k: 512}. */
      args: z.record(z.string(), z.union([z.string().max(10_000), z.number(), z.boolean(), z.array(z.number())])).default({}),
      force: z.boolean().default(false),
    }),
    z.object({ cached: z.boolean(), medianS: z.number(), minS: z.number(), maxS: z.number(), answer: z.record(z.string(), z.unknown()) }),
    'Measures one operation on a board (or returns the latency table’s entry for it) — each configuration once unless forced.',
  ),
  getRoofline: method(z.object({ board: BoardId }), RooflineStudy.nullable(), 'The latest finished roofline study of a board, or null.'),
  getLayerLatency: method(
    /** policy: the timing under that policy; omitted: the model as it is (every layer kept, 32 bits). */
    z.object({ board: BoardId, model: z.string().trim().min(1), policy: LayerLatencyParams.shape.policy }),
    LayerLatencyResult.nullable(),
    'The latest layer-by-layer latency of a model on a board (timed with it, or with another model of the same architecture and layer shapes), or null.',
  ),
  listBoards: method(z.object({}).default({}), z.array(BoardSummary), 'This computer and the SSH boards that were added.'),
  addBoard: method(
    AddBoardArgs,
    BoardSummary.extend({ test: BoardTest }),
    'Connects to an SSH board (trusting its host key on first use), compiles the agent there and registers it.',
  ),
  testBoard: method(z.object({ board: BoardId }), BoardTest, 'Connects, compiles the agent if needed, and reports what the board is.'),
  removeBoard: method(
    z.object({ board: BoardId }),
    z.object({ removed: z.boolean() }),
    'Forgets an SSH board and the host key trusted for it (its measurements stay in the latency table).',
  ),
  unlockBoard: method(
    z.object({ board: BoardId, passphrase: z.string().min(1).max(1024) }),
    BoardTest,
    'Gives the passphrase of an SSH board’s key file and tests the board with it; the passphrase is kept in memory only, until Benchside quits.',
  ),
  forgetHostKey: method(
    z.object({ board: BoardId }),
    z.object({ forgotten: z.string().nullable() }),
    'Forgets the host key trusted for an SSH board (after a reinstall): the next connection trusts the key offered then. Answers the fingerprint forgotten, or null.',
  ),
  exportLatencyTable: method(z.object({ board: BoardId.optional() }), z.object({ csv: z.string(), rows: z.number() }), 'The latency table as CSV.'),
  importLatencyTable: method(
    z.object({ csv: z.string().min(1).max(50_000_000) }),
    z.object({ rows: z.number() }),
    'Imports latency rows from CSV; all or nothing.',
  ),
}

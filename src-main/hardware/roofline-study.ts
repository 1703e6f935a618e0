// The roofline study of a board: peak FLOP/s, read bandwidth per memory level, and fp32 / int8 / bit-serial GEMM
// points judged against those ceilings. Every measurement goes through the latency table, so none is taken twice.
import type { AgentAnswer, AgentArgs, AgentOperation, Board, BoardInfo } from './board.ts'
import type { RooflineMeasurement } from '../contract/index.ts'
import { roofline, ridgePoints, type Ceilings, type OperatorRoofline } from './roofline.ts'

/** The latency table as this study needs it (store/latency-table.ts implements it): measure a key at most once. */
export interface MeasurementCache {
  measureOnce(
    key: { boardId: string; agentVersion: string; operation: string; shape: string; dtype: string; layout: string },
    measure: () => Promise<{ medianS: number; minS: number; maxS: number; raw: unknown }>,
    options?: { force?: boolean },
  ): Promise<{ raw: unknown }>
}

/** Canonical "k=v" text of a shape, keys sorted, so equal configurations give equal keys. */
export function shapeKey(shape: Readonly<Record<string, unknown>>): string {
  return Object.keys(shape)
    .sort()
    .map((k) => `${k}=${String(shape[k])}`)
    .join(',')
}

export interface RooflineStudyOptions {
  /** Square GEMM sizes N (M = N = K). */
  sizes: number[]
  /** Bit widths for bit-serial GEMM (activations and weights alike). */
  bits: number[]
  threads: number
  /** Measure again even when the table has the configuration. */
  force: boolean
  signal?: AbortSignal
  onProgress?: (fraction: number, message: string) => void
}

export interface OperatorResult extends OperatorRoofline {
  kernel: 'gemm_f32' | 'gemm_i8' | 'gemm_bitserial'
  n: number
  bits: number | null
  medianS: number
  /** Speed-up over fp32 GEMM of the same size. */
  speedupOverF32: number | null
}

/** A measured study, as the contract declares the roofline job's result. */
export type RooflineStudy = RooflineMeasurement

const TIMING = { warmup: 1, repeat: 7, min_repeat_ms: 50 }

export async function measureRoofline(board: Board, latency: MeasurementCache, options: RooflineStudyOptions): Promise<RooflineStudy> {
  const info = await board.info()
  const steps = 1 + 3 + options.sizes.length * (2 + options.bits.length)
  let done = 0
  const measure = async (operation: AgentOperation, args: AgentArgs, dtype: string, layout = ''): Promise<AgentAnswer> => {
    options.onProgress?.(done / steps, `${operation} ${shapeKey(args)}`)
    const answer = await measureOnBoard(board, info, latency, operation, args, { dtype, layout, force: options.force, signal: options.signal })
    done++
    return answer
  }

  const peak = await measure('peak_flops', { threads: options.threads }, 'f32')
  const perCore = (peak.per_core as { gflops_per_s: number }).gflops_per_s * 1e9
  const allCores = (peak.all_cores as { gflops_per_s: number }).gflops_per_s * 1e9
  const peakOpsPerSecond = options.threads > 1 ? allCores : perCore

  const bandwidth = []
  for (const level of memoryLevels(info)) {
    const r = await measure('bandwidth', { bytes: level.bytes, threads: options.threads }, 'f32')
    bandwidth.push({
      level: level.level,
      bytesPerSecond: (r.gb_per_s as number) * 1e9,
      workingSetBytes: r.working_set_bytes as number,
      capacity: level.capacity,
    })
  }
  const ceilings: Ceilings = {
    peakOpsPerSecond,
    memory: bandwidth.map((b) => ({ level: b.level, bytesPerSecond: b.bytesPerSecond, capacityBytes: b.capacity })),
  }

  const operators: OperatorResult[] = []
  const point = (kernel: OperatorResult['kernel'], n: number, bits: number | null, r: AgentAnswer, f32Seconds: number | null): OperatorResult => {
    const name = kernel === 'gemm_f32' ? `fp32 GEMM ${n}` : kernel === 'gemm_i8' ? `int8 GEMM ${n}` : `bit-serial a${bits}w${bits} GEMM ${n}`
    const [judged] = roofline(kernel === 'gemm_bitserial' ? bitSerialCeilings(ceilings, bits!) : ceilings, [
      { name, ops: r.ops as number, bytes: r.bytes as number, seconds: r.median_s as number, workingSetBytes: r.bytes as number },
    ])
    return { ...judged!, kernel, n, bits, medianS: r.median_s as number, speedupOverF32: f32Seconds === null ? null : f32Seconds / (r.median_s as number) }
  }
  for (const n of options.sizes) {
    const shape = { m: n, n, k: n, threads: options.threads }
    const f32 = await measure('gemm_f32', shape, 'f32')
    const f32Seconds = f32.median_s as number
    operators.push(point('gemm_f32', n, null, f32, null))
    operators.push(point('gemm_i8', n, 8, await measure('gemm_i8', shape, 'i8'), f32Seconds))
    for (const bits of options.bits) {
      const r = await measure('gemm_bitserial', { ...shape, a_bits: bits, w_bits: bits, layout: 'planes_outer' }, `a${bits}w${bits}`, 'planes_outer')
      operators.push(point('gemm_bitserial', n, bits, r, f32Seconds))
    }
  }
  options.onProgress?.(1, 'done')
  return {
    board: { id: board.id, agentVersion: info.agentVersion, arch: info.arch, simd: info.simd, cores: info.cores, cflags: info.cflags },
    peakOpsPerSecond,
    bandwidth: bandwidth.map(({ level, bytesPerSecond, workingSetBytes }) => ({ level, bytesPerSecond, workingSetBytes })),
    ridges: ridgePoints(ceilings),
    operators,
  }
}

/** The latency-table key parts the agent's arguments do not name: element type and data layout. */
export function dtypeOf(operation: AgentOperation, args: AgentArgs): { dtype: string; layout: string } {
  if (operation === 'gemm_i8') return { dtype: 'i8', layout: '' }
  if (operation === 'gemm_bitserial') return { dtype: `a${args.a_bits ?? 1}w${args.w_bits ?? 1}`, layout: String(args.layout ?? 'planes_outer') }
  if (operation === 'conv2d') return { dtype: 'f32', layout: String(args.method ?? '') }
  return { dtype: 'f32', layout: '' }
}

/** One operation on a board through the measure-once cache: the stored answer unless `force`. */
export async function measureOnBoard(
  board: Board,
  info: BoardInfo,
  cache: MeasurementCache,
  operation: AgentOperation,
  args: AgentArgs,
  options: { dtype?: string; layout?: string; force?: boolean; signal?: AbortSignal } = {},
): Promise<AgentAnswer> {
  options.signal?.throwIfAborted()
  const derived = dtypeOf(operation, args)
  const key = {
    boardId: board.id,
    agentVersion: info.agentVersion,
    operation,
    shape: shapeKey(args),
    dtype: options.dtype ?? derived.dtype,
    layout: options.layout ?? derived.layout,
  }
  const entry = await cache.measureOnce(
    key,
    async () => {
      const answer = await board.run(operation, { ...TIMING, ...args }, { signal: options.signal, timeoutMs: 600_000 })
      // peak_flops times per core and on all cores; its single-core timing stands for the entry.
      const timed = (answer.median_s === undefined ? answer.per_core : answer) as { median_s: number; min_s: number; max_s: number }
      return { medianS: timed.median_s, minS: timed.min_s, maxS: timed.max_s, raw: answer }
    },
    { force: options.force },
  )
  return entry.raw as AgentAnswer
}

/** Working sets at half a cache level stay in it; four times the last level (at least 64 MiB) goes to DRAM. */
function memoryLevels(info: BoardInfo): { level: string; bytes: number; capacity: number | undefined }[] {
  const cache = (level: number) => info.caches.find((c) => c.level === level && c.type !== 'Instruction')?.sizeBytes
  const l1 = cache(1) ?? 32 * 1024
  const l2 = cache(2) ?? 512 * 1024
  const last = cache(3) ?? l2
  return [
    { level: 'L1', bytes: l1 / 2, capacity: l1 },
    { level: 'L2', bytes: l2 / 2, capacity: l2 },
    { level: 'DRAM', bytes: Math.max(4 * last, 64 * 1024 * 1024), capacity: undefined },
  ]
}

/**
 * A bit-serial GEMM's compute ceiling. Its ops are counted as 2·M·N·K like fp32's, but a 32-bit lane carries 32 one-bit
 * operands and an a-bit × w-bit product takes a·w of them, so its peak is the fp32 peak × 32 / (a·w); judged against the
 * fp32 peak, a fast 1-bit kernel would sit at 10–20× "its" ceiling.
 */
export function bitSerialCeilings(ceilings: Ceilings, bits: number): Ceilings {
  return { ...ceilings, peakOpsPerSecond: (ceilings.peakOpsPerSecond * 32) / (bits * bits) }
}

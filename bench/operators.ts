// Operator roofline benchmark on the local board: peak FLOP/s, L1/L2/DRAM read bandwidth, fp32 GEMM against the
// L1-bound ceiling min(peak, AI x L1 BW), int8 and bit-serial GEMM speed-ups over fp32. Prints one JSON object.
// Run: node --import tsx bench/operators.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AgentAnswer, AgentArgs } from '../src-main/hardware/board.ts'
import { LocalBoard } from '../src-main/hardware/local-board.ts'
import { roofline, type Ceilings } from '../src-main/hardware/roofline.ts'

const timing = { warmup: 1, repeat: 7, min_repeat_ms: 50 }
const round = (x: number, digits = 4) => Number(x.toPrecision(digits))

const dataDir = mkdtempSync(join(tmpdir(), 'benchside-bench-operators-'))
const board = new LocalBoard({ dataDir })

async function run(op: Parameters<LocalBoard['run']>[0], args: AgentArgs): Promise<AgentAnswer> {
  return board.run(op, { ...timing, ...args }, { timeoutMs: 600_000 })
}

try {
  const info = await board.info()
  const cache = (level: number) => info.caches.find((c) => c.level === level && c.type !== 'Instruction')?.sizeBytes
  const l1 = cache(1) ?? 32 * 1024
  const l2 = cache(2) ?? 512 * 1024
  const l3 = cache(3) ?? 8 * 1024 * 1024

  const peak = await run('peak_flops', {})
  const perCore = (peak.per_core as { gflops_per_s: number }).gflops_per_s
  const allCores = (peak.all_cores as { gflops_per_s: number; threads: number }).gflops_per_s

  // Working sets at half of a cache level stay in it; four times the last level goes to DRAM.
  const levels = [
    { level: 'L1', bytes: l1 / 2, capacity: l1 },
    { level: 'L2', bytes: l2 / 2, capacity: l2 },
    { level: 'DRAM', bytes: Math.max(4 * l3, 64 * 1024 * 1024), capacity: undefined },
  ]
  const bandwidth: Record<string, { working_set_bytes: number; gb_per_s: number }> = {}
  for (const l of levels) {
    const r = await run('bandwidth', { bytes: l.bytes, threads: 1 })
    bandwidth[l.level] = { working_set_bytes: r.working_set_bytes as number, gb_per_s: round(r.gb_per_s as number) }
  }
  const ceilings: Ceilings = {
    peakOpsPerSecond: perCore * 1e9,
    memory: levels.map((l) => ({ level: l.level, bytesPerSecond: bandwidth[l.level]!.gb_per_s * 1e9, capacityBytes: l.capacity })),
  }

  const f32: Record<number, AgentAnswer> = {}
  const gemmF32 = []
  for (const n of [256, 512, 1024]) {
    const r = await run('gemm_f32', { m: n, n, k: n, threads: 1 })
    f32[n] = r
    const ai = r.intensity_ops_per_byte as number
    const l1Ceiling = Math.min(perCore, ai * bandwidth.L1!.gb_per_s)
    const [point] = roofline(ceilings, [{ name: `gemm_f32 ${n}`, ops: r.ops as number, bytes: r.bytes as number, seconds: r.median_s as number, workingSetBytes: r.bytes as number }])
    gemmF32.push({
      n,
      simd: r.simd,
      median_s: r.median_s,
      spread_s: [r.min_s, r.max_s],
      gflops_per_s: round(r.gops_per_s as number),
      intensity_flop_per_byte: round(ai),
      l1_bound_ceiling_gflops_per_s: round(l1Ceiling),
      fraction_of_l1_ceiling: round((r.gops_per_s as number) / l1Ceiling, 3),
      roofline_level_by_working_set: point!.memoryLevel,
      roofline_binding: point!.binding,
    })
  }

  const quantized = []
  for (const n of [512, 1024]) {
    const base = f32[n]!.median_s as number
    const i8 = await run('gemm_i8', { m: n, n, k: n, threads: 1 })
    quantized.push({ kernel: 'gemm_i8', n, simd: i8.simd, median_s: i8.median_s, gops_per_s: round(i8.gops_per_s as number), speedup_over_f32: round(base / (i8.median_s as number), 3) })
    for (const bits of [1, 2, 4]) {
      const r = await run('gemm_bitserial', { m: n, n, k: n, a_bits: bits, w_bits: bits, layout: 'planes_outer', threads: 1 })
      quantized.push({
        kernel: 'gemm_bitserial',
        n,
        bits: `a${bits}w${bits}`,
        layout: r.layout,
        popcount: r.popcount,
        median_s: r.median_s,
        gops_per_s: round(r.gops_per_s as number),
        speedup_over_f32: round(base / (r.median_s as number), 3),
      })
    }
  }

  console.log(
    JSON.stringify(
      {
        board: { id: board.id, agent_version: info.agentVersion, arch: info.arch, simd: info.simd, cflags: info.cflags, compiler: info.compiler, cores: info.cores },
        timing,
        peak_gflops_per_s: { per_core: round(perCore), all_cores: round(allCores), threads: (peak.all_cores as { threads: number }).threads },
        read_bandwidth_single_thread: bandwidth,
        ridge_flop_per_byte: Object.fromEntries(ceilings.memory.map((m) => [m.level, round(ceilings.peakOpsPerSecond / m.bytesPerSecond)])),
        gemm_f32_single_thread: gemmF32,
        quantized_gemm_single_thread: quantized,
        notes: [
          'GOP/s count 2*M*N*K for every kernel, so speed-ups compare equal work; bit-serial times include packing the activations.',
          'Byte models: fp32 4*(MK+KN+MN); int8 MK+KN+4MN; bit-serial MK (uint8 activations) + packed weight planes + 4MN.',
        ],
      },
      null,
      2,
    ),
  )
} finally {
  await board.close()
  rmSync(dataDir, { recursive: true, force: true })
}

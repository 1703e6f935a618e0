// Operator roofline benchmark on the local board: peak FLOP/s, L1/L2/DRAM read bandwidth, fp32 GEMM against the
// L1-bound ceiling min(peak, AI × L1 BW), int8 and bit-serial GEMM speed-ups over fp32. Prints one JSON object.
// Run: node --import tsx bench/operators.ts   (fresh measurements every run: nothing is read from a latency table)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBoard } from '../src-main/hardware/local-board.ts'
import { measureRoofline, type MeasurementCache } from '../src-main/hardware/roofline-study.ts'

const round = (x: number, digits = 4) => Number(x.toPrecision(digits))
const dataDir = mkdtempSync(join(tmpdir(), 'benchside-bench-operators-'))
const board = new LocalBoard({ dataDir })
const alwaysMeasure: MeasurementCache = { measureOnce: async (_key, measure) => measure() }

try {
  const info = await board.info()
  const study = await measureRoofline(board, alwaysMeasure, { sizes: [256, 512, 1024], bits: [1, 2, 4], threads: 1, force: true })
  const peak = study.peakOpsPerSecond / 1e9
  const l1 = study.bandwidth.find((b) => b.level === 'L1')!.bytesPerSecond / 1e9
  const f32 = study.operators.filter((o) => o.kernel === 'gemm_f32')
  console.log(
    JSON.stringify(
      {
        board: {
          id: board.id,
          agent_version: info.agentVersion,
          arch: info.arch,
          simd: info.simd,
          cflags: info.cflags,
          compiler: info.compiler,
          cores: info.cores,
        },
        peak_gflops_per_s_single_core: round(peak),
        read_bandwidth_gb_per_s_single_thread: Object.fromEntries(study.bandwidth.map((b) => [b.level, round(b.bytesPerSecond / 1e9)])),
        ridge_flop_per_byte: Object.fromEntries(study.ridges.map((r) => [r.level, round(r.intensity)])),
        gemm_f32: f32.map((o) => {
          const l1Ceiling = Math.min(peak, o.intensity * l1)
          return {
            n: o.n,
            gflops_per_s: round(o.achievedOpsPerSecond / 1e9),
            intensity: round(o.intensity),
            l1_bound_ceiling: round(l1Ceiling),
            fraction_of_l1_ceiling: round(o.achievedOpsPerSecond / 1e9 / l1Ceiling, 3),
          }
        }),
        quantized_gemm: study.operators
          .filter((o) => o.kernel !== 'gemm_f32')
          .map((o) => ({
            name: o.name,
            gops_per_s: round(o.achievedOpsPerSecond / 1e9),
            speedup_over_f32: o.speedupOverF32 === null ? null : round(o.speedupOverF32, 3),
            binding: o.binding,
          })),
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

// fp32 GEMM on tfjs's wasm backend (XNNPACK, SIMD; one thread per backend in Node) against numpy/OpenBLAS on one
// thread with its native kernels, square N, in interleaved rounds. A training step is mostly GEMMs (and convolutions
// lowered to them), so this per-core kernel gap is a floor under how close wasm training can come to PyTorch at the
// same thread count: data-parallel threads divide the work, not the gap. Prints one JSON object.
// Run: node --import tsx bench/wasm-gemm.ts [--n 256,512,1024] [--rounds 3]
import { availableParallelism, cpus, loadavg } from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src-main/engine/backend.ts'
import { pythonMissing, runPythonBaseline } from './python-baseline.ts'

const args = process.argv.slice(2)
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const sizes = (option('--n') ?? '256,512,1024').split(',').map(Number)
const rounds = Number(option('--rounds')) || 3
const MIN_SAMPLE_S = 0.05
const SAMPLES = 7

interface NumpyReport {
  gemm_f32: { n: number; median_s: number; min_s: number }[]
  baseline_env: unknown
}

/** Seconds per N×N×N matMul on the current backend: the best of SAMPLES samples of `number` calls each. */
function timeWasm(n: number): number {
  const a = tf.randomUniform([n, n])
  const b = tf.randomUniform([n, n])
  const call = () => tf.matMul(a, b).dispose()
  call()
  let number = 1
  for (;;) {
    const start = performance.now()
    for (let i = 0; i < number; i++) call()
    if ((performance.now() - start) / 1000 >= MIN_SAMPLE_S) break
    number *= 2
  }
  const samples = Array.from({ length: SAMPLES }, () => {
    const start = performance.now()
    for (let i = 0; i < number; i++) call()
    return (performance.now() - start) / 1000 / number
  })
  tf.dispose([a, b])
  return Math.min(...samples)
}

const gflops = (n: number, seconds: number) => Number(((2 * n ** 3) / seconds / 1e9).toFixed(1))
const backend = await initBackend()
const missing = pythonMissing(['numpy', 'threadpoolctl'])
const loadStart = loadavg()[0]!
const wasm = new Map<number, number[]>(sizes.map((n) => [n, []]))
const numpy = new Map<number, number[]>(sizes.map((n) => [n, []]))
let numpyEnv: unknown = missing ? { skipped: missing } : null
for (let round = 0; round < rounds; round++) {
  for (const n of sizes) wasm.get(n)!.push(timeWasm(n))
  if (missing) continue
  const run = runPythonBaseline<NumpyReport>('numpy/gemm.py', [...sizes.flatMap((n) => ['--n', String(n)]), '--warmup-ms', '200'])
  for (const r of run.report.gemm_f32) numpy.get(r.n)!.push(r.min_s)
  numpyEnv = { ...(run.report.baseline_env as object), load: run.load }
}

console.log(
  JSON.stringify(
    {
      bench: 'wasm-gemm',
      command: `node --import tsx bench/wasm-gemm.ts ${args.join(' ')}`.trim(),
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', loadAverageAtStart: loadStart, loadAverageAtEnd: loadavg()[0] },
      backend,
      note: 'best of each round, then the best over rounds; one thread on both sides',
      results: sizes.map((n) => {
        const w = Math.min(...wasm.get(n)!)
        const p = numpy.get(n)!.length ? Math.min(...numpy.get(n)!) : null
        return { n, wasmGflops: gflops(n, w), numpyGflops: p === null ? null : gflops(n, p), numpyOverWasm: p === null ? null : Number((w / p).toFixed(2)) }
      }),
      numpy: numpyEnv,
    },
    null,
    2,
  ),
)

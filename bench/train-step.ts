// Training-step time and inference throughput of the bench workloads on every tfjs backend that loads, next to PyTorch
// CPU (2 threads, native BLAS kernels) on the same shapes; then Benchside's own train() on wasm with 1 and 2 worker
// threads, in rounds interleaved with PyTorch. Prints one JSON object; progress goes to stderr.
// Run: node --import tsx bench/train-step.ts [--steps N] [--backends tensorflow,wasm,cpu] [--no-torch] [--no-torch-1]
//        [--workers 1,2] [--rounds R] [--no-layers] [--no-workers]
import { availableParallelism, cpus, loadavg, release } from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { initBackend, type BackendInfo, type BackendName } from '../src-main/engine/backend.ts'
import { WORKLOADS, type Workload } from './models.ts'
import { pythonMissing, runPythonBaseline, type BaselineRun } from './python-baseline.ts'
import type { Dataset } from '../src-main/engine/data/dataset.ts'
import { Network } from '../src-main/engine/network.ts'
import { seededRandom } from '../src-main/engine/random.ts'
import { train } from '../src-main/engine/train.ts'
import { architecture } from '../src-main/engine/zoo.ts'

interface Measurement {
  model: Workload['name']
  batch: number
  /** Median per step; the minimum is the least-disturbed figure on a shared machine. */
  trainStepMs: number
  trainStepMinMs: number
  inferSamplesPerSec: number
  inferSamplesPerSecMax: number
  steps: number
}

const BATCHES = [64, 256] as const
const args = process.argv.slice(2)
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const steps = Number(option('--steps')) || 20
const wanted = args.includes('--no-layers') ? [] : (option('--backends') ?? 'tensorflow,wasm,cpu').split(',')
const workerCounts = (option('--workers') ?? '1,2').split(',').map(Number)
const rounds = Number(option('--rounds')) || 3

const log = (message: string): void => {
  process.stderr.write(`${message}\n`)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const upper = sorted[mid]
  if (upper === undefined) throw new Error('The median of no timings is undefined: time at least one step.')
  return sorted.length % 2 === 1 ? upper : (sorted[mid - 1]! + upper) / 2
}

function timeMs(fn: () => void, warmup: number, count: number): { median: number; min: number } {
  for (let i = 0; i < warmup; i++) fn()
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    fn()
    times.push(performance.now() - start)
  }
  return { median: median(times), min: Math.min(...times) }
}

function measure(workload: Workload, batch: number, backend: BackendName): Measurement {
  // cpu takes seconds per step: a couple of steps say enough.
  const [warmup, count] = backend === 'cpu' ? [1, 2] : [3, steps]
  const model = workload.build()
  const optimizer = tf.train.adam(1e-3)
  const x = tf.randomNormal([batch, ...workload.inputShape])
  const labels = tf.oneHot(tf.randomUniform([batch], 0, workload.classes, 'int32'), workload.classes)
  const trainStep = (): void => {
    tf.tidy(() => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor), true)
      loss?.dataSync()
    })
  }
  const infer = (): void => {
    tf.tidy(() => {
      ;(model.predict(x) as tf.Tensor).dataSync()
    })
  }
  const train = timeMs(trainStep, warmup, count)
  const inferMs = timeMs(infer, warmup, backend === 'cpu' ? count : steps)
  model.dispose()
  optimizer.dispose()
  tf.dispose([x, labels])
  return {
    model: workload.name,
    batch,
    trainStepMs: round(train.median),
    trainStepMinMs: round(train.min),
    inferSamplesPerSec: Math.round(batch / (inferMs.median / 1000)),
    inferSamplesPerSecMax: Math.round(batch / (inferMs.min / 1000)),
    steps: count,
  }
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits))
const round2 = (v: number): number => round(v, 2)

interface TorchJson {
  torch: string
  threads: number
  results: Omit<Measurement, 'steps'>[]
  baseline_env: unknown
}

function runTorch(threads: number, torchSteps = Math.max(steps, 20)): (BaselineRun<TorchJson> & { threads: number }) | { skipped: string } {
  if (args.includes('--no-torch')) return { skipped: 'disabled with --no-torch' }
  const missing = pythonMissing(['torch'])
  if (missing) {
    log(`${missing}; skipping the PyTorch comparison.`)
    return { skipped: missing }
  }
  log(`running PyTorch reference with ${threads} thread(s)…`)
  try {
    return { threads, ...runPythonBaseline<TorchJson>('torch/train_step.py', ['--steps', String(torchSteps), '--threads', String(threads)], 600_000) }
  } catch (error) {
    return { skipped: `PyTorch run failed: ${(error as Error).message}` }
  }
}

interface TrainMeasurement {
  model: Workload['name']
  batch: number
  workers: number
  workersUsed: number
  /** Per step: each epoch's wall time ÷ its steps, over the epochs after the first (warm-up); median and best epoch. */
  stepMedianMs: number
  stepBestMs: number
  epochs: number
}

/** A random dataset of `count` samples: step time does not depend on the values. */
function syntheticDataset(shape: number[], count: number): Dataset {
  const random = seededRandom(1)
  const size = shape.reduce((a, b) => a * b, 1)
  const split = {
    x: Uint8Array.from({ length: count * size }, () => Math.floor(random() * 256)),
    y: Int32Array.from({ length: count }, (_, i) => i % 10),
    count,
  }
  const classNames = Array.from({ length: 10 }, (_, i) => `c${i}`)
  return {
    id: 'bench',
    name: 'bench',
    sampleShape: shape,
    classNames,
    normalization: { scale: 1 / 255, mean: 0.5, std: 0.25 },
    train: split,
    validation: null,
    test: split,
  }
}

/**
 * Benchside's train() on the zoo architecture of the same name (its dense and conv layers before batch norm have no
 * bias), `epochs` epochs of `count` steps. Timed per epoch: worker threads report batches in bursts, so single steps
 * cannot be timed from the main thread, and the epoch's end (weights back to the caller's network) belongs to the cost.
 */
async function measureTrain(model: Workload['name'], batch: number, workers: number, count: number, epochs = 4): Promise<TrainMeasurement> {
  const dataset = syntheticDataset([28, 28, 1], batch * count)
  const net = new Network(architecture(model).build([28, 28, 1], 10), 1)
  let workersUsed = 1
  let seconds: number[] = []
  try {
    const reports = await train(
      net,
      dataset,
      { epochs, batchSize: batch, optimizer: 'adam', learningRate: 1e-3, schedule: 'constant', seed: 1, patience: 0, workers },
      { onWorkers: (plan) => (workersUsed = plan.workers) },
    )
    seconds = reports.slice(1).map((r) => r.seconds)
  } finally {
    net.dispose()
  }
  const perStep = seconds.map((s) => (s * 1000) / count)
  return { model, batch, workers, workersUsed, stepMedianMs: round(median(perStep)), stepBestMs: round(Math.min(...perStep)), epochs }
}

const backends: (BackendInfo & { requested: BackendName })[] = []
const skippedBackends: { name: BackendName; reason: string }[] = []
const results: (Measurement & { backend: BackendName })[] = []
for (const name of (['tensorflow', 'wasm', 'cpu'] as const).filter((b) => wanted.includes(b))) {
  const info = await initBackend(name)
  if (info.name !== name) {
    skippedBackends.push({ name, reason: info.fallbackReason ?? `fell back to ${info.name}` })
    continue
  }
  backends.push({ ...info, requested: name })
  for (const workload of WORKLOADS) {
    for (const batch of BATCHES) {
      log(`${name} ${workload.name} batch ${batch}…`)
      results.push({ backend: name, ...measure(workload, batch, name) })
    }
  }
}

// Benchside's train() on wasm with 1 and N worker threads, interleaved round by round with PyTorch on 2 threads, so
// both sides see the same machine load. Each figure: steady-state ms per step over one short epoch.
const engineRounds: { round: number; load: number; engine: TrainMeasurement[]; torch: ReturnType<typeof runTorch> }[] = []
if (!args.includes('--no-workers')) {
  const info = await initBackend('wasm')
  if (info.name === 'wasm') {
    for (let round = 0; round < rounds; round++) {
      const engine: TrainMeasurement[] = []
      const load = loadavg()[0]!
      for (const workload of WORKLOADS) {
        for (const batch of BATCHES) {
          for (const workers of workerCounts) {
            log(`round ${round + 1}/${rounds}: train() ${workload.name} batch ${batch}, ${workers} worker(s)…`)
            engine.push(await measureTrain(workload.name, batch, workers, steps))
          }
        }
      }
      engineRounds.push({ round, load: round2(load), engine, torch: runTorch(2, steps) })
    }
  }
}
const torch = engineRounds.find((r) => 'report' in r.torch)?.torch ?? runTorch(2)
// The single-threaded PyTorch figure separates the threading gap from the rest.
const torchSingleThread = args.includes('--no-torch-1') ? { skipped: 'disabled with --no-torch-1' } : runTorch(1)
const torchResults = (run: ReturnType<typeof runTorch>) => ('report' in run ? run.report.results : [])
const minOf = (xs: number[]) => (xs.length ? Math.min(...xs) : null)
const medianOf = (xs: number[]) => (xs.length ? median(xs) : null)
const engineSummary = WORKLOADS.flatMap((w) =>
  BATCHES.flatMap((batch) => {
    const torchMins = engineRounds.flatMap((r) =>
      torchResults(r.torch)
        .filter((t) => t.model === w.name && t.batch === batch)
        .map((t) => t.trainStepMinMs),
    )
    const torchMedians = engineRounds.flatMap((r) =>
      torchResults(r.torch)
        .filter((t) => t.model === w.name && t.batch === batch)
        .map((t) => t.trainStepMs),
    )
    const torchBest = minOf(torchMins)
    return workerCounts.map((workers) => {
      const runs = engineRounds.flatMap((r) => r.engine.filter((e) => e.model === w.name && e.batch === batch && e.workers === workers))
      const best = minOf(runs.map((r) => r.stepBestMs))
      const med = medianOf(runs.map((r) => r.stepMedianMs))
      return {
        model: w.name,
        batch,
        workers,
        workersUsed: runs[0]?.workersUsed ?? null,
        stepMedianMs: med === null ? null : round(med),
        stepBestMs: best === null ? null : round(best),
        torch2MedianMs: medianOf(torchMedians),
        torch2BestMs: torchBest,
        bestOverTorch2Best: best !== null && torchBest ? round(best / torchBest, 2) : null,
        medianOverTorch2Median: med !== null && torchMedians.length ? round(med / median(torchMedians), 2) : null,
      }
    })
  }),
)
const ratios =
  'report' in torch
    ? results
        .filter((r) => r.backend === 'wasm')
        .flatMap((r) => {
          const ref = torch.report.results.find((t) => t.model === r.model && t.batch === r.batch)
          const ref1 = 'report' in torchSingleThread ? torchSingleThread.report.results.find((t) => t.model === r.model && t.batch === r.batch) : undefined
          return ref
            ? [
                {
                  model: r.model,
                  batch: r.batch,
                  trainWasmOverTorch: round(r.trainStepMs / ref.trainStepMs, 2),
                  trainWasmOverTorchBestCase: round(r.trainStepMinMs / ref.trainStepMinMs, 2),
                  inferTorchOverWasm: round(ref.inferSamplesPerSec / r.inferSamplesPerSec, 2),
                  inferTorchOverWasmBestCase: round(ref.inferSamplesPerSecMax / r.inferSamplesPerSecMax, 2),
                  ...(ref1 ? { trainWasmOverTorch1ThreadBestCase: round(r.trainStepMinMs / ref1.trainStepMinMs, 2) } : {}),
                },
              ]
            : []
        })
    : []

console.log(
  JSON.stringify(
    {
      bench: 'train-step',
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, kernel: release(), loadAfter: loadavg().map(round2) },
      setup: {
        optimizer: 'adam(1e-3)',
        loss: 'softmax cross-entropy',
        timing: 'median (and minimum) per step after warm-up; ratios > 1 mean wasm is slower',
        lenetFirstConv: "'same' padding (28×28 in and out, equivalent to padding the input to 32×32)",
      },
      backends,
      skippedBackends,
      results,
      torch,
      torchSingleThread,
      ratios,
      engine: { rounds: engineRounds, summary: engineSummary },
    },
    null,
    2,
  ),
)

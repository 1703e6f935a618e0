// Training-step time and inference throughput of the bench workloads on every tfjs backend that loads, next to PyTorch
// CPU (2 threads) on the same shapes. Prints one JSON object; progress goes to stderr.
// Run: node --import tsx bench/train-step.ts [--steps N] [--backends tensorflow,wasm,cpu] [--no-torch] [--no-torch-1]
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { initBackend, type BackendInfo, type BackendName } from '../src-main/engine/backend.ts'
import { WORKLOADS, type Workload } from './models.ts'

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
interface TorchReport {
  torch: string
  threads: number
  results: Omit<Measurement, 'steps'>[]
}

const BATCHES = [64, 256] as const
const PYTHON = '/usr/bin/python3'
const args = process.argv.slice(2)
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const steps = Number(option('--steps')) || 20
const wanted = (option('--backends') ?? 'tensorflow,wasm,cpu').split(',')

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

function runTorch(threads: number): TorchReport | { skipped: string } {
  if (args.includes('--no-torch')) return { skipped: 'disabled with --no-torch' }
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` }
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch', 'train_step.py')
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' })
  if (probe.status !== 0) {
    const reason = 'PyTorch is not installed for /usr/bin/python3 (apt-get install -y python3-torch libopenblas0-pthread)'
    log(`${reason}; skipping the PyTorch comparison.`)
    return { skipped: reason }
  }
  log(`running PyTorch reference with ${threads} thread(s)…`)
  const run = spawnSync(PYTHON, [script, '--steps', String(Math.max(steps, 20)), '--threads', String(threads)], { encoding: 'utf8', timeout: 600_000 })
  if (run.status !== 0) return { skipped: `PyTorch run failed: ${(run.stderr || run.error?.message || '').trim().split('\n').at(-1)}` }
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as TorchReport
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

const torch = runTorch(2)
// wasm runs on one thread in Node, so the single-threaded PyTorch figure separates the threading gap from the rest.
const torchSingleThread = args.includes('--no-torch-1') ? { skipped: 'disabled with --no-torch-1' } : runTorch(1)
const ratios =
  'results' in torch
    ? results
        .filter((r) => r.backend === 'wasm')
        .flatMap((r) => {
          const ref = torch.results.find((t) => t.model === r.model && t.batch === r.batch)
          const ref1 = 'results' in torchSingleThread ? torchSingleThread.results.find((t) => t.model === r.model && t.batch === r.batch) : undefined
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
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
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
    },
    null,
    2,
  ),
)

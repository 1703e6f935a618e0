// Time to per-point midpoint noise levels (walking noise, additive) for MLP-SFC-BN and LeNet-5-BN on the 10k-sample
// Fashion-MNIST test set: Benchside's adaptive search vs a naive PyTorch dense sweep (49 σ × 5 repeats, one full
// forward per cell) of the same weights, plus Benchside's own dense grid for the midpoint comparison. Prints one JSON
// object; progress goes to stderr.
// Run: node --import tsx bench/walking-noise.ts [--epochs N] [--torch-cells-per-point K (0 = all)] [--no-torch] [--no-dense]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initBackend } from '../src-main/engine/backend.ts'
import type { Dataset } from '../src-main/engine/data/dataset.ts'
import { builtinDatasets, loadDataset } from '../src-main/engine/data/registry.ts'
import { SYSTEM_FASHION_MNIST } from '../src-main/engine/data/sources.ts'
import { evaluate } from '../src-main/engine/evaluate.ts'
import { logGrid } from '../src-main/engine/midpoint.ts'
import { exportWeightsNpz } from '../src-main/engine/model-files.ts'
import { Network } from '../src-main/engine/network.ts'
import type { NoiseScope } from '../src-main/engine/noise.ts'
import { train } from '../src-main/engine/train.ts'
import { searchMidpoints, walkingScopes, type ScopeMidpoint } from '../src-main/engine/walking-noise.ts'
import { architecture } from '../src-main/engine/zoo.ts'

const PYTHON = '/usr/bin/python3'
const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback)
const epochs = option('--epochs', 2)
const torchCellsPerPoint = option('--torch-cells-per-point', 10)
const SIGMAS = 49
const REPEATS = 5
const SEED = 7
const BATCH = 1000
const ADAPTIVE = { repeats: REPEATS, coarseStep: 1, coarseRepeats: 1, toleranceDecades: 0.04, maxCells: 150 }

const log = (message: string): void => void process.stderr.write(`${message}\n`)
const round = (v: number, digits = 3): number => Number(v.toFixed(digits))
const seconds = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const start = performance.now()
  const result = await work()
  return [result, (performance.now() - start) / 1000]
}

interface TorchPoint {
  point: string
  measuredCells: number
  measuredSeconds: number
  estimatedSweepSeconds: number
}
interface TorchReport {
  torch: string
  threads: number
  testSamples: number
  cleanAccuracy: number
  cellsPerPoint: number
  extrapolated: boolean
  measuredSeconds: number
  sweepSeconds: number
  points: TorchPoint[]
}

function runTorch(folder: string, net: Network, dataset: Dataset, points: string[]): TorchReport | { skipped: string } {
  if (args.includes('--no-torch')) return { skipped: 'disabled with --no-torch' }
  if (spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) {
    return { skipped: 'PyTorch is not installed for /usr/bin/python3 (apt-get install -y python3-torch libopenblas0-pthread)' }
  }
  const specFile = join(folder, `${net.spec.architecture}.json`)
  const weightsFile = join(folder, `${net.spec.architecture}.npz`)
  writeFileSync(specFile, JSON.stringify(net.spec))
  exportWeightsNpz(net, weightsFile)
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch', 'walking_noise.py')
  const { mean, std } = dataset.normalization
  const run = spawnSync(
    PYTHON,
    [
      script,
      '--spec',
      specFile,
      '--weights',
      weightsFile,
      '--data',
      SYSTEM_FASHION_MNIST,
      '--mean',
      String(mean),
      '--std',
      String(std),
      '--points',
      points.join(','),
      '--sigmas',
      String(SIGMAS),
      '--repeats',
      String(REPEATS),
      '--cells-per-point',
      String(torchCellsPerPoint),
      '--threads',
      '2',
    ],
    { encoding: 'utf8', timeout: 4 * 3600_000, maxBuffer: 64 << 20 },
  )
  if (run.status !== 0) return { skipped: `PyTorch run failed: ${(run.stderr || run.error?.message || '').trim().split('\n').at(-1)}` }
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as TorchReport
}

const summary = (results: ScopeMidpoint[]) => ({
  layerEvaluations: round(
    results.reduce((s, r) => s + r.cost.layerEvaluations, 0),
    1,
  ),
  gigaMacs: round(results.reduce((s, r) => s + r.cost.macs, 0) / 1e9, 1),
  cells: results.reduce((s, r) => s + r.cells.length, 0),
  passes: results.reduce((s, r) => s + r.passes, 0),
})

const backend = await initBackend()
log(`backend ${backend.name}`)
if (!existsSync(SYSTEM_FASHION_MNIST)) throw new Error(`The full Fashion-MNIST is not at ${SYSTEM_FASHION_MNIST}; install dataset-fashion-mnist.`)
const full = loadDataset(builtinDatasets().find((d) => d.id === 'fashion-mnist')!)
const testSet: Dataset = full
const folder = mkdtempSync(join(tmpdir(), 'benchside-walking-'))
const loadStart = loadavg()[0]!
const models = []
const failures: { architecture: string; error: string }[] = []
try {
  for (const id of ['mlp-sfc-bn', 'lenet5-bn']) {
    const net = new Network(architecture(id).build(full.sampleShape, full.classNames.length), 1)
    try {
      log(`${id}: training ${epochs} epochs on the full training set…`)
      const [, trainSeconds] = await seconds(() =>
        train(net, full, { epochs, batchSize: 128, optimizer: 'adam', learningRate: 1e-3, schedule: 'cosine', seed: 1, patience: 0 }),
      )
      const clean = await evaluate(net, testSet, testSet.test)
      // 'flatten' is left out: elementwise noise there is the same as noise on its input (for the MLP: the data itself).
      const scopes: NoiseScope[] = walkingScopes(net).filter((s) => s.kind === 'point' && s.point !== 'flatten')
      const points = scopes.map((s) => (s.kind === 'point' ? s.point : ''))
      const search = { noise: { kind: 'additive' as const }, seed: SEED, batchSize: BATCH }
      log(`${id}: adaptive search over ${points.length} points…`)
      const [adaptive, adaptiveSeconds] = await seconds(() => searchMidpoints(net, testSet, testSet.test, scopes, { ...search, adaptive: ADAPTIVE }))
      let dense: ScopeMidpoint[] | null = null
      let denseSeconds = 0
      if (!args.includes('--no-dense')) {
        log(`${id}: dense grid (${SIGMAS} σ × ${REPEATS}) with the same engine…`)
        ;[dense, denseSeconds] = await seconds(() =>
          searchMidpoints(net, testSet, testSet.test, scopes, { ...search, strategy: 'dense', sigmas: logGrid(1e-2, 1e10, SIGMAS), repeats: REPEATS }),
        )
      }
      log(`${id}: naive PyTorch sweep…`)
      const torch = runTorch(folder, net, testSet, points)
      const nodes = net.points.filter((p) => p.op !== 'input').length
      const naiveCells = points.length * SIGMAS * REPEATS
      const torchSeconds = 'sweepSeconds' in torch ? torch.sweepSeconds : null
      const midpoints = adaptive.map((a, i) => {
        const d = dense?.[i]
        const ratio = a.estimate.sigma !== null && d?.estimate.sigma != null ? a.estimate.sigma / d.estimate.sigma : null
        return {
          point: a.scope,
          adaptive: a.estimate.sigma === null ? a.estimate.status : round(a.estimate.sigma, 5),
          adaptiveCi: a.estimate.ci.map((v) => (v === null ? null : round(v, 5))),
          adaptiveStopped: a.stopped,
          adaptiveCells: a.cells.length,
          dense: d ? (d.estimate.sigma === null ? d.estimate.status : round(d.estimate.sigma, 5)) : null,
          denseCi: d ? d.estimate.ci.map((v) => (v === null ? null : round(v, 5))) : null,
          relativeDifference: ratio === null ? null : round(Math.abs(ratio - 1), 4),
        }
      })
      const differences = midpoints.flatMap((m) => (m.relativeDifference === null ? [] : [m.relativeDifference]))
      models.push({
        architecture: id,
        trainSeconds: round(trainSeconds, 1),
        cleanAccuracy: clean.accuracy,
        points,
        benchside: {
          adaptive: { seconds: round(adaptiveSeconds, 1), ...summary(adaptive) },
          dense: dense ? { seconds: round(denseSeconds, 1), ...summary(dense) } : null,
        },
        torch:
          'sweepSeconds' in torch
            ? {
                seconds: round(torch.sweepSeconds, 1),
                extrapolated: torch.extrapolated,
                measuredSeconds: round(torch.measuredSeconds, 1),
                measuredCells: torch.points.reduce((s, p) => s + p.measuredCells, 0),
                cells: naiveCells,
                layerEvaluations: naiveCells * nodes,
                cleanAccuracy: torch.cleanAccuracy,
                version: torch.torch,
                threads: torch.threads,
              }
            : torch,
        adaptiveOverTorch: torchSeconds ? round(adaptiveSeconds / torchSeconds, 3) : null,
        midpoints,
        maxRelativeMidpointDifference: differences.length ? Math.max(...differences) : null,
        midpointsWithin10Percent: `${differences.filter((d) => d <= 0.1).length}/${differences.length}`,
      })
    } catch (error) {
      // Report a model that cannot be run (e.g. a backend kernel failing) and carry on with the others.
      failures.push({ architecture: id, error: error instanceof Error ? error.message : String(error) })
      log(`${id}: failed: ${failures.at(-1)!.error}`)
    } finally {
      net.dispose()
    }
  }
} finally {
  rmSync(folder, { recursive: true, force: true })
}

const adaptiveTotal = models.reduce((s, m) => s + m.benchside.adaptive.seconds, 0)
const torchTotal =
  models.length > 0 && models.every((m) => 'seconds' in m.torch) ? models.reduce((s, m) => s + ('seconds' in m.torch ? m.torch.seconds : 0), 0) : null
console.log(
  JSON.stringify(
    {
      bench: 'walking-noise',
      command: `node --import tsx bench/walking-noise.ts ${args.join(' ')}`.trim(),
      machine: {
        cpus: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverageAtStart: round(loadStart, 2),
        loadAverageAtEnd: round(loadavg()[0]!, 2),
        note: '2 cores shared with other engineers: absolute times and ratios move with their load.',
      },
      backend,
      setup: {
        training: `${epochs} epochs on the full Fashion-MNIST training set (${full.train.count} images), adam 1e-3 cosine, batch 128, with train()`,
        test: `full Fashion-MNIST test set (${full.test.count} samples) from ${SYSTEM_FASHION_MNIST}`,
        noise: 'additive, one point at a time (walking noise); all points but input and flatten',
        dense: `${SIGMAS} σ log-uniform 1e-2…1e10 × ${REPEATS} repeats`,
        adaptive: ADAPTIVE,
        batchSize: BATCH,
        torch:
          torchCellsPerPoint > 0
            ? `naive sweep: one full forward over the test set per cell; ${torchCellsPerPoint} cells per point timed and the ${SIGMAS * REPEATS}-cell sweep extrapolated from them`
            : 'naive sweep: one full forward over the test set per cell, every cell run',
        layerEvaluations: 'node computations, each over the whole test set (a node on b of n samples counts b/n)',
      },
      models,
      failures,
      total: {
        benchsideAdaptiveSeconds: round(adaptiveTotal, 1),
        torchSeconds: torchTotal === null ? null : round(torchTotal, 1),
        ratio: torchTotal ? round(adaptiveTotal / torchTotal, 3) : null,
        goal: '≤ 0.25',
      },
    },
    null,
    2,
  ),
)

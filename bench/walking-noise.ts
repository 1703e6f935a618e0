// Time to per-point midpoint noise levels (walking noise, additive) for MLP-SFC-BN and LeNet-5-BN on the 10k-sample
// Fashion-MNIST test set: a Benchside walking sweep job (adaptive search with sequential testing, started as the UI and
// CLI start it, so it spreads its points over the cores) against a naive PyTorch dense sweep (49 σ × 5 repeats, one
// full forward per cell, every cell run, 2 threads) of the same weights over the same points, on PyTorch's native BLAS
// kernels. Per model the order is Benchside, PyTorch, Benchside again, so both sides see the same machine; the ratio
// uses the mean of the two Benchside runs. The midpoints are checked against a fine-grid reference (0.05-decade spacing, 4
// repeats, another noise seed) over ±0.5 decades around them. Prints one JSON object; progress goes to stderr.
// Run: node --import tsx bench/walking-noise.ts [--epochs N] [--models DIR] [--torch-cells-per-point K] [--no-torch]
//        [--no-reference]
//   --only ID  one architecture (mlp-sfc-bn or lenet5-bn)
//   --models DIR  reuse the trained weights in DIR (<architecture>.npz), training and saving them when missing
//   --torch-cells-per-point K  time K cells per point and extrapolate the sweep (labelled `extrapolated`); default 0: all
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { initBackend } from '../src-main/engine/backend.ts'
import { builtinDatasets, loadDataset } from '../src-main/engine/data/registry.ts'
import { SYSTEM_FASHION_MNIST } from '../src-main/engine/data/sources.ts'
import { evaluate } from '../src-main/engine/evaluate.ts'
import { logGrid } from '../src-main/engine/midpoint.ts'
import { exportWeightsNpz, importWeightsNpz } from '../src-main/engine/model-files.ts'
import { Network } from '../src-main/engine/network.ts'
import type { NoiseScope } from '../src-main/engine/noise.ts'
import { train } from '../src-main/engine/train.ts'
import { SweepResult } from '../src-main/contract/index.ts'
import { searchMidpoints, walkingScopes, type ScopeMidpoint } from '../src-main/engine/walking-noise.ts'
import { architecture } from '../src-main/engine/zoo.ts'
import { benchCore } from './bench-core.ts'
import { pythonMissing, runPythonBaseline } from './python-baseline.ts'

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback)
const epochs = option('--epochs', 2)
const torchCellsPerPoint = option('--torch-cells-per-point', 0)
const modelsDir = args.includes('--models') ? args[args.indexOf('--models') + 1]! : null
const SIGMAS = 49
const REPEATS = 5
const SEED = 7
const REFERENCE = { seed: 1007, spacingDecades: 0.05, halfWidthDecades: 0.5, repeats: 4 }
const BATCH = 1000
// The job's adaptive search: a coarse pass of one σ per decade over 1e-2…1e10 (1 repeat), at most 150 cells per point.
const TOLERANCE_DECADES = 0.04

const log = (message: string): void => void process.stderr.write(`${message}\n`)
const round = (v: number, digits = 3): number => Number(v.toFixed(digits))
const seconds = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const start = performance.now()
  const result = await work()
  return [result, (performance.now() - start) / 1000]
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
  points: { point: string; measuredCells: number }[]
  baseline_env: unknown
}

function runTorch(folder: string, net: Network, points: string[], normalization: { mean: number; std: number }) {
  if (args.includes('--no-torch')) return { skipped: 'disabled with --no-torch' }
  const missing = pythonMissing(['torch', 'numpy'])
  if (missing) return { skipped: missing }
  const specFile = join(folder, `${net.spec.architecture}.json`)
  const weightsFile = join(folder, `${net.spec.architecture}.npz`)
  writeFileSync(specFile, JSON.stringify(net.spec))
  exportWeightsNpz(net, weightsFile)
  const { mean, std } = normalization
  const flags = { spec: specFile, weights: weightsFile, data: SYSTEM_FASHION_MNIST, mean, std, points: points.join(','), sigmas: SIGMAS, repeats: REPEATS }
  const cli = [...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]), '--cells-per-point', String(torchCellsPerPoint), '--threads', '2']
  try {
    return runPythonBaseline<TorchReport>('torch/walking_noise.py', cli, 6 * 3600_000)
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) }
  }
}

const summary = (results: ScopeMidpoint[]) => ({
  layerEvaluations: round(
    results.reduce((s, r) => s + r.cost.layerEvaluations, 0),
    1,
  ),
  gigaMacs: round(results.reduce((s, r) => s + r.cost.macs, 0) / 1e9, 1),
  cells: results.reduce((s, r) => s + r.cells.length, 0),
  /** Cells weighted by the share of the test set they saw. */
  passes: results.reduce((s, r) => s + r.passes, 0),
})

const backend = await initBackend()
log(`backend ${backend.name}`)
if (!existsSync(SYSTEM_FASHION_MNIST)) throw new Error(`The full Fashion-MNIST is not at ${SYSTEM_FASHION_MNIST}; install dataset-fashion-mnist.`)
const data = loadDataset(builtinDatasets().find((d) => d.id === 'fashion-mnist')!)
const folder = mkdtempSync(join(tmpdir(), 'benchside-walking-'))
const bench = benchCore('walking-noise')
const loadStart = loadavg()[0]!
const models = []
const failures: { architecture: string; error: string }[] = []
try {
  for (const id of ['mlp-sfc-bn', 'lenet5-bn'].filter((a) => !args.includes('--only') || args[args.indexOf('--only') + 1] === a)) {
    const net = new Network(architecture(id).build(data.sampleShape, data.classNames.length), 1)
    try {
      const saved = modelsDir ? join(modelsDir, `${id}.npz`) : null
      let trainSeconds: number | null = null
      if (saved && existsSync(saved)) {
        log(`${id}: weights from ${saved}`)
        importWeightsNpz(net, saved)
      } else {
        log(`${id}: training ${epochs} epochs on the full training set…`)
        ;[, trainSeconds] = await seconds(() =>
          train(net, data, { epochs, batchSize: 128, optimizer: 'adam', learningRate: 1e-3, schedule: 'cosine', seed: 1, patience: 0 }),
        )
        if (saved) {
          mkdirSync(modelsDir!, { recursive: true })
          exportWeightsNpz(net, saved)
        }
      }
      const clean = await evaluate(net, data, data.test)
      // Every point but the input, as the walking sweep job takes them.
      const scopes: NoiseScope[] = walkingScopes(net)
      const points = scopes.map((s) => (s.kind === 'point' ? s.point : ''))
      const weights = join(folder, `${id}.npz`)
      exportWeightsNpz(net, weights)
      const model = await bench.finished((await bench.core.api.importModel({ path: weights, architecture: id, dataset: 'fashion-mnist' })).uuid)
      const sweepParams = {
        model,
        dataset: 'fashion-mnist',
        noise: { kind: 'additive' as const },
        strategy: 'adaptive' as const,
        repeats: REPEATS,
        seed: SEED,
        toleranceDecades: TOLERANCE_DECADES,
      }
      const sweepJob = async (): Promise<[SweepResult, number]> => {
        const [uuid, time] = await seconds(() => bench.run({ kind: 'sweep', params: sweepParams }))
        return [SweepResult.parse(await bench.core.api.getSweep({ run: uuid })), time]
      }
      log(`${id}: walking sweep job over ${points.length} points…`)
      const [adaptive, firstSeconds] = await sweepJob()
      log(`${id}: naive PyTorch sweep${torchCellsPerPoint > 0 ? ` (${torchCellsPerPoint} cells per point, extrapolated)` : ', every cell'}…`)
      const torch = runTorch(folder, net, points, data.normalization)
      log(`${id}: walking sweep job again…`)
      const [again, secondSeconds] = await sweepJob()
      const sameMidpoints = JSON.stringify(adaptive.scopes.map((a) => a.midpoint)) === JSON.stringify(again.scopes.map((a) => a.midpoint))
      const adaptiveSeconds = (firstSeconds + secondSeconds) / 2
      const search = { noise: { kind: 'additive' as const }, batchSize: BATCH }

      let reference: ScopeMidpoint[] | null = null
      let referenceSeconds = 0
      if (!args.includes('--no-reference')) {
        log(`${id}: fine-grid reference around each midpoint…`)
        const found = scopes.map((scope) => adaptive.scopes.find((a) => a.scope === (scope.kind === 'point' ? scope.point : ''))?.midpoint?.sigma)
        ;[reference, referenceSeconds] = await seconds(async () => {
          const out: ScopeMidpoint[] = []
          for (const [i, scope] of scopes.entries()) {
            const centre = found[i]
            if (centre == null) continue
            const m = Math.log10(centre)
            const count = Math.round((2 * REFERENCE.halfWidthDecades) / REFERENCE.spacingDecades) + 1
            const sigmas = logGrid(10 ** (m - REFERENCE.halfWidthDecades), 10 ** (m + REFERENCE.halfWidthDecades), count)
            const [result] = await searchMidpoints(net, data, data.test, [scope], {
              ...search,
              seed: REFERENCE.seed,
              strategy: 'dense',
              sigmas,
              repeats: REFERENCE.repeats,
            })
            out.push(result!)
          }
          return out
        })
      }
      const midpoints = adaptive.scopes.map((a) => {
        const r = reference?.find((x) => x.scope === a.scope)
        const sigma = a.midpoint?.sigma ?? null
        const ratio = sigma !== null && r?.estimate.sigma != null ? sigma / r.estimate.sigma : null
        const [lo, hi] = a.midpoint?.ci ?? [null, null]
        return {
          point: a.scope,
          adaptive: sigma === null ? (a.midpoint?.status ?? null) : round(sigma, 5),
          adaptiveCi: [lo, hi].map((v) => (v === null ? null : round(v, 5))),
          adaptiveSigmasMeasured: a.curve.length,
          reference: r ? (r.estimate.sigma === null ? r.estimate.status : round(r.estimate.sigma, 5)) : null,
          relativeDifference: ratio === null ? null : round(Math.abs(ratio - 1), 4),
          referenceInsideAdaptiveCi: r?.estimate.sigma != null && lo !== null && hi !== null ? r.estimate.sigma >= lo && r.estimate.sigma <= hi : null,
        }
      })
      const differences = midpoints.flatMap((m) => (m.relativeDifference === null ? [] : [m.relativeDifference]))
      const nodes = net.points.filter((p) => p.op !== 'input').length
      const naiveCells = points.length * SIGMAS * REPEATS
      const torchSeconds = 'report' in torch ? torch.report.sweepSeconds : null
      models.push({
        architecture: id,
        trainSeconds: trainSeconds === null ? null : round(trainSeconds, 1),
        cleanAccuracy: clean.accuracy,
        points,
        benchside: {
          sweepJob: { seconds: round(adaptiveSeconds, 1), runs: [round(firstSeconds, 1), round(secondSeconds, 1)], sameMidpointsBothRuns: sameMidpoints },
          reference: reference ? { seconds: round(referenceSeconds, 1), ...REFERENCE, ...summary(reference) } : null,
        },
        torch:
          'report' in torch
            ? {
                seconds: round(torch.report.sweepSeconds, 1),
                extrapolated: torch.report.extrapolated,
                measuredSeconds: round(torch.report.measuredSeconds, 1),
                measuredCells: torch.report.points.reduce((s, p) => s + p.measuredCells, 0),
                cells: naiveCells,
                layerEvaluations: naiveCells * nodes,
                cleanAccuracy: torch.report.cleanAccuracy,
                version: torch.report.torch,
                threads: torch.report.threads,
                load: torch.load,
                unsetForThisCommand: torch.unsetVariables,
                baselineEnv: torch.report.baseline_env,
              }
            : torch,
        adaptiveOverTorch: torchSeconds ? round(adaptiveSeconds / torchSeconds, 4) : null,
        midpoints,
        maxRelativeMidpointDifference: differences.length ? Math.max(...differences) : null,
        midpointsWithin3Percent: `${differences.filter((d) => d <= 0.03).length}/${differences.length}`,
        referenceInsideAdaptiveCi: `${midpoints.filter((m) => m.referenceInsideAdaptiveCi).length}/${midpoints.filter((m) => m.referenceInsideAdaptiveCi !== null).length}`,
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
  bench.close()
  rmSync(folder, { recursive: true, force: true })
}

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
        note: '2 cores, possibly shared with other work: absolute times move with the load; the ratio interleaves both sides.',
      },
      backend,
      setup: {
        training: `${epochs} epochs on the full Fashion-MNIST training set (${data.train.count} images), adam 1e-3 cosine, batch 128, with train()`,
        test: `full Fashion-MNIST test set (${data.test.count} samples) from ${SYSTEM_FASHION_MNIST}`,
        noise: 'additive, one point at a time (walking noise); every point but the input, on both sides',
        sweepJob: {
          strategy: 'adaptive (sequential testing)',
          repeats: REPEATS,
          toleranceDecades: TOLERANCE_DECADES,
          seed: SEED,
          workers: 'one per core (the default)',
        },
        reference: `${REFERENCE.spacingDecades}-decade grid over ±${REFERENCE.halfWidthDecades} decades around each adaptive midpoint, ${REFERENCE.repeats} repeats, noise seed ${REFERENCE.seed} (the adaptive search uses ${SEED})`,
        batchSize: BATCH,
        torch:
          torchCellsPerPoint > 0
            ? `naive sweep (${SIGMAS} σ × ${REPEATS}): ${torchCellsPerPoint} cells per point timed, the rest EXTRAPOLATED`
            : `naive sweep (${SIGMAS} σ × ${REPEATS}): one full forward over the test set per cell, every cell run`,
        layerEvaluations: 'node computations, each over the whole test set (a node on b of n samples counts b/n)',
      },
      models,
      failures,
      goal: { adaptiveOverTorch: '≤ 0.08 per model', midpoints: 'within 3% of the fine-grid reference' },
    },
    null,
    2,
  ),
)

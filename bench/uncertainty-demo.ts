// The uncertainty demo study, through the same jobs the UI and CLI start: Fashion-MNIST (in distribution) against
// handwritten digits (OOD), a LeNet-5-BN body, several seeds. Per seed: the single model, a plain last-layer ensemble,
// function-space repulsion on training / augmented / OOD samples, weight-space repulsion and a deep ensemble; then one
// active-learning comparison (BALD, entropy, random). Prints one JSON object: means with 95% t-intervals over seeds.
// Run: node --import tsx bench/uncertainty-demo.ts [--seeds 3] [--heads 10] [--epochs 3] [--deep-members 5] [--rounds 5]
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { ActiveLearningResult, EnsembleTrainResult, UncertaintyEvaluateResult } from '../src-main/contract/index.ts'
import { benchCore } from './bench-core.ts'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    heads: { type: 'string', default: '10' },
    epochs: { type: 'string', default: '3' },
    'model-epochs': { type: 'string', default: '5' },
    'deep-members': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
  },
})
const seeds = Number(values.seeds)
const heads = Number(values.heads)
const epochs = Number(values.epochs)
const bench = benchCore('uncertainty-demo', { concurrency: 1 })
const { core, run, resultOf } = bench

/** Two-sided 97.5% Student t quantiles for 1…9 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262]
function interval(xs: number[]): { mean: number; ci95: number | null } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  if (xs.length < 2) return { mean: round(mean), ci95: null }
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1))
  return { mean: round(mean), ci95: round((T975[xs.length - 2] ?? 1.96) * (sd / Math.sqrt(xs.length))) }
}
const round = (x: number) => Math.round(x * 10_000) / 10_000

type Method = { name: string; params: Record<string, unknown> | null }
const methods: Method[] = [
  { name: 'single model', params: null },
  { name: 'plain last-layer ensemble', params: { repulsion: 'none' } },
  { name: 'function-space repulsion, train samples', params: { repulsion: 'function', samples: 'train' } },
  { name: 'function-space repulsion, augmented samples', params: { repulsion: 'function', samples: 'augment' } },
  { name: 'function-space repulsion, OOD samples', params: { repulsion: 'function', samples: 'ood' } },
  { name: 'weight-space repulsion', params: { repulsion: 'weight' } },
  { name: 'deep ensemble', params: { method: 'deep', heads: Number(values['deep-members']) } },
]
const KEYS = ['accuracy', 'nll', 'ece', 'aurocEntropy', 'aurocMi'] as const

const started = performance.now()
try {
  const table: Record<string, Record<string, number[]>> = Object.fromEntries(methods.map((m) => [m.name, Object.fromEntries(KEYS.map((k) => [k, []]))]))
  const seconds: Record<string, number[]> = Object.fromEntries(methods.map((m) => [m.name, []]))
  let firstModel = ''
  for (let seed = 1; seed <= seeds; seed++) {
    const model = await run({ kind: 'train', params: { architecture: 'lenet5-bn', epochs: Number(values['model-epochs']), seed } })
    firstModel ||= model
    for (const method of methods) {
      const t0 = performance.now()
      const ensemble = method.params ? await run({ kind: 'ensemble-train', params: { model, heads, epochs, seed, ...method.params } }) : model
      const evaluated = await resultOf(UncertaintyEvaluateResult, await run({ kind: 'uncertainty-evaluate', params: { ensemble, seed } }))
      seconds[method.name]!.push((performance.now() - t0) / 1000)
      for (const key of KEYS) table[method.name]![key]!.push(evaluated.summary[key]!)
      if (method.params) EnsembleTrainResult.parse((await core.api.getRunResult({ run: ensemble })).result)
    }
  }
  const active: Record<string, unknown> = {}
  for (const acquire of ['bald', 'entropy', 'random'] as const) {
    const uuid = await run({
      kind: 'active-learning',
      params: { model: firstModel, acquire, rounds: Number(values.rounds), initial: 100, perRound: 50, heads: 5, seed: 1 },
    })
    active[acquire] = (await resultOf(ActiveLearningResult, uuid)).rounds.map((r) => ({
      labelled: r.labelled,
      accuracy: round(r.testAccuracy),
      ece: round(r.ece),
    }))
  }
  console.log(
    JSON.stringify(
      {
        inDistribution: 'fashion-mnist-subset (2,000 test images)',
        outOfDistribution: 'mnist-digits-subset (2,000 test digits)',
        body: 'lenet5-bn',
        seeds,
        heads,
        epochs,
        machine: { cores: availableParallelism(), loadAverage: loadavg().map(round) },
        methods: Object.fromEntries(
          methods.map((m) => [
            m.name,
            { ...Object.fromEntries(KEYS.map((k) => [k, interval(table[m.name]![k]!)])), secondsPerSeed: interval(seconds[m.name]!).mean },
          ]),
        ),
        activeLearning: active,
        totalSeconds: round((performance.now() - started) / 1000),
      },
      null,
      2,
    ),
  )
} finally {
  bench.close()
}

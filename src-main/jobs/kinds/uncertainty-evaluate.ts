// The uncertainty-evaluate job: an ensemble (or a single model) on the in-distribution test split and an OOD set — every
// metric, the reliability diagram, entropy and mutual-information histograms, ROC and risk–coverage curves, a gallery —
// and, when asked, accuracy, ECE and epistemic uncertainty against the σ of noise injected into the body.
import type { UncertaintyEvaluateResult } from '../../contract/index.ts'
import { initBackend } from '../../engine/backend.ts'
import type { Dataset, Split } from '../../engine/data/dataset.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_ARRAY, nominalDevice } from '../../engine/analog.ts'
import { planHooks, planNetwork, selectAnalogLayers } from '../../engine/analog-plan.ts'
import { batchTensors } from '../../engine/data/dataset.ts'
import { combineHooks } from '../../engine/hooks.ts'
import type { Hooks, Network } from '../../engine/network.ts'
import { scopeHooks, seededNormals } from '../../engine/noise.ts'
import { reliabilityDiagram, eceOf } from '../../engine/uncertainty/calibration.ts'
import { predictiveMean, uncertaintyDecomposition } from '../../engine/uncertainty/metrics.ts'
import { rocCurve } from '../../engine/uncertainty/ood.ts'
import { riskCoverage } from '../../engine/uncertainty/risk-coverage.ts'
import { summarize } from '../../engine/uncertainty/summary.ts'
import type { JobContext } from '../context.ts'
import { loadEnsemble } from '../ensembles.ts'
import { nullOod } from './ensemble-train.ts'

const HISTOGRAM_BINS = 30
const GALLERY = 8

export default async function uncertaintyEvaluateJob(context: JobContext<'uncertainty-evaluate'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the ensemble and the datasets')
  const backend = await initBackend()
  context.param('backend', backend.name)
  const ensemble = await loadEnsemble(context.inputs.ensemble)
  try {
    const normalization = ensemble.metadata.normalization
    const dataset: Dataset = { ...loadDataset(context.inputs.dataset), normalization }
    const ood = context.inputs.oodDataset ? { ...loadDataset(context.inputs.oodDataset), normalization } : null
    if (ood && ood.sampleShape.join() !== dataset.sampleShape.join()) {
      throw new Error(
        `The OOD set ${ood.name} has ${ood.sampleShape.join('×')} samples but ${dataset.name} has ${dataset.sampleShape.join('×')}; they must match.`,
      )
    }
    const classes = dataset.classNames.length
    const limit = p.limit ?? undefined
    // The body on the analog model: each member network planned once on training samples, then simulated.
    const analog = p.analog
    const device = context.inputs.analogDevice ?? nominalDevice()
    const analogPlans = new Map<Network, Hooks>()
    const bodyHooks = (net: Network): Hooks | undefined => {
      if (!analog) return undefined
      let hooks = analogPlans.get(net)
      if (!hooks) {
        const { x, y } = batchTensors(dataset, dataset.train, [...Array(Math.min(512, dataset.train.count)).keys()])
        try {
          const plan = planNetwork(
            net,
            x,
            selectAnalogLayers(net, analog.layers),
            device,
            DEFAULT_ARRAY,
            analog.integration,
            analog.device ?? null,
            analog.fill,
          )
          hooks = planHooks(net, plan, device, analog.integration, p.seed)
        } finally {
          tf.dispose([x, y])
        }
        analogPlans.set(net, hooks)
      }
      return hooks
    }
    const body = analog
      ? `analog (${analog.integration}, ${analog.device ?? 'nominal'} device, ${analog.layers === 'all' ? 'all layers' : analog.layers === 'dense' ? 'dense layers' : analog.layers.join(', ')})`
      : 'float'
    context.param('body', body)
    context.progress(0.05, 'predicting', `${ensemble.members} members on ${dataset.name}`)
    const members = await ensemble.predict(dataset, dataset.test, { limit, hooks: analog ? bodyHooks : undefined })
    const labels = dataset.test.y.subarray(0, members[0]!.length / classes)
    context.progress(0.3, 'predicting', ood ? `the OOD set ${ood.name}` : 'no OOD set')
    const oodMembers = ood ? await ensemble.predict(ood, ood.test, { limit, hooks: analog ? bodyHooks : undefined }) : undefined
    const summary = { ...nullOod(), ...summarize({ members, labels, classes, oodMembers, bins: p.bins }) }
    for (const [key, value] of Object.entries(summary)) if (typeof value === 'number') context.metric(key, value, 0)

    const mean = predictiveMean(members, classes)
    const inside = uncertaintyDecomposition(members, classes)
    const outside = oodMembers ? uncertaintyDecomposition(oodMembers, classes) : null
    const oodMean = oodMembers ? predictiveMean(oodMembers, classes) : null
    const result: UncertaintyEvaluateResult = {
      ensemble: context.inputs.ensembleRun,
      members: ensemble.members,
      body,
      dataset: dataset.id,
      oodDataset: ood?.id ?? null,
      classNames: dataset.classNames,
      summary,
      reliability: reliabilityDiagram(mean, labels, classes, p.bins).map((b) => ({
        lower: b.lower,
        upper: b.upper,
        count: b.count,
        confidence: b.meanConfidence,
        accuracy: b.accuracy,
      })),
      entropy: histograms(inside.total, outside?.total ?? null, Math.log(classes)),
      mutualInformation: histograms(inside.epistemic, outside?.epistemic ?? null, Math.log(ensemble.members > 1 ? Math.min(classes, ensemble.members) : 2)),
      rocEntropy: outside ? curve(rocCurve(inside.total, outside.total)) : null,
      rocMi: outside ? curve(rocCurve(inside.epistemic, outside.epistemic)) : null,
      riskCoverage: (() => {
        const rc = riskCoverage(mean, labels, classes)
        return rc.coverage.map((x, i) => ({ x, y: rc.risk[i]! }))
      })(),
      gallery: {
        mostCertain: gallery(dataset, dataset.test, mean, inside.epistemic, classes, (a, b) => b - a, true),
        leastCertain: gallery(dataset, dataset.test, mean, inside.epistemic, classes, (a, b) => a - b, true),
        confidentOod: ood && oodMean && outside ? gallery(ood, ood.test, oodMean, outside.epistemic, classes, (a, b) => b - a, false) : [],
      },
      noise: null,
    }
    context.result(result)

    if (p.noise) {
      const noise = p.noise
      const scope = noise.point === 'global' ? ({ kind: 'global' } as const) : ({ kind: 'point', point: noise.point } as const)
      if (scope.kind === 'point') ensemble.net.point(scope.point)
      const sigmas = [0, ...noise.sigmas.filter((s) => s > 0).sort((a, b) => a - b)]
      const points: NonNullable<UncertaintyEvaluateResult['noise']>['curve'] = []
      for (const [i, sigma] of sigmas.entries()) {
        if (context.signal.aborted) throw context.signal.reason
        context.progress(0.5 + 0.5 * (i / sigmas.length), 'noise', `σ = ${sigma}`)
        const noisy = await ensemble.predict(dataset, dataset.test, {
          limit,
          hooks: (net) => combineHooks(bodyHooks(net), scopeHooks(net, scope, noise.model, sigma, { source: seededNormals(p.seed, 0, i) })),
        })
        const m = predictiveMean(noisy, classes)
        const parts = uncertaintyDecomposition(noisy, classes)
        const accuracy = accuracyOf(m, labels, classes)
        points.push({
          sigma,
          accuracy,
          ece: eceOf(reliabilityDiagram(m, labels, classes, p.bins)),
          meanEpistemic: meanOf(parts.epistemic),
          meanEntropy: meanOf(parts.total),
        })
        context.metric('noise_accuracy', accuracy, i)
        context.result({ ...result, noise: { point: noise.point, curve: points } })
      }
    }
    context.progress(
      1,
      'done',
      `accuracy ${(summary.accuracy * 100).toFixed(1)}% · ECE ${summary.ece.toFixed(3)}${summary.aurocMi === null ? '' : ` · OOD AUROC (MI) ${summary.aurocMi.toFixed(3)}`}`,
    )
  } finally {
    ensemble.dispose()
  }
}

const meanOf = (values: ArrayLike<number>) => {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  return values.length ? sum / values.length : 0
}

function accuracyOf(probs: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0
  for (let n = 0; n < labels.length; n++) {
    let best = 0
    for (let c = 1; c < classes; c++) if (probs[n * classes + c]! > probs[n * classes + best]!) best = c
    if (best === labels[n]) correct++
  }
  return correct / labels.length
}

/** Equal-width histograms of a score over [0, top] for the in-distribution and OOD samples (values above top in the last bin). */
function histograms(inside: ArrayLike<number>, outside: ArrayLike<number> | null, top: number) {
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => (top * i) / HISTOGRAM_BINS)
  const count = (values: ArrayLike<number>) => {
    const counts = new Array<number>(HISTOGRAM_BINS).fill(0)
    for (let i = 0; i < values.length; i++) counts[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((values[i]! / top) * HISTOGRAM_BINS)))]!++
    return counts
  }
  return { edges, inDistribution: count(inside), outOfDistribution: outside ? count(outside) : null }
}

const curve = (roc: { fpr: number[]; tpr: number[] }) => roc.fpr.map((x, i) => ({ x, y: roc.tpr[i]! }))

/** The first GALLERY samples by an order on (confidence, epistemic); pixels as stored (bytes), for the room's gallery. */
function gallery(
  dataset: Dataset,
  split: Split,
  probs: Float32Array,
  epistemic: ArrayLike<number>,
  classes: number,
  order: (a: number, b: number) => number,
  labelled: boolean,
) {
  const count = probs.length / classes
  const top = (n: number) => {
    let best = 0
    for (let c = 1; c < classes; c++) if (probs[n * classes + c]! > probs[n * classes + best]!) best = c
    return best
  }
  const size = dataset.sampleShape.reduce((a, b) => a * b, 1)
  return [...Array(count).keys()]
    .map((n) => ({ n, predicted: top(n), confidence: probs[n * classes + top(n)]! }))
    .sort((a, b) => order(a.confidence, b.confidence))
    .slice(0, GALLERY)
    .map(({ n, predicted, confidence }) => ({
      index: n,
      pixels: Array.from(split.x.subarray(n * size, (n + 1) * size), (v) =>
        Math.max(0, Math.min(255, Math.round(split.x instanceof Uint8Array ? v : v * 255))),
      ),
      shape: dataset.sampleShape,
      label: labelled ? split.y[n]! : null,
      predicted,
      confidence,
      epistemic: epistemic[n]!,
    }))
}

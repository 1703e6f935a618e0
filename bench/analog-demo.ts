// The analog demo study on the emulated board, through the same jobs the UI and CLI start: calibrate; train an MLP
// through the associative model; measure it on the board; fine-tune it in the loop (board forward, calibrated ordered
// model backward); and train one from scratch through the calibrated ordered model. Prints one JSON object.
// Run: node --import tsx bench/analog-demo.ts [--fill 6] [--epochs 5] [--samples 2000] [--architecture mlp-tfc]
import { parseArgs } from 'node:util'
import { benchCore } from './bench-core.ts'

const { values } = parseArgs({
  options: {
    fill: { type: 'string', default: '6' },
    epochs: { type: 'string', default: '5' },
    samples: { type: 'string', default: '2000' },
    architecture: { type: 'string', default: 'mlp-tfc' },
  },
})
const fill = Number(values.fill)
const epochs = Number(values.epochs)
const limit = Number(values.samples)
const bench = benchCore('analog-demo')
const { core, run } = bench

/** Starts a job and resolves with its run id when it has finished; rejects when it did not. */

const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000)
const started = performance.now()
try {
  const calibration = await run({ kind: 'analog-calibrate', params: { board: 'demo' } })
  const { quality } = (await core.api.getAnalogCalibration({ device: 'demo' }))!
  const train = (integration: 'associative' | 'ordered') =>
    run({ kind: 'train', params: { architecture: values.architecture, epochs, analog: { integration, device: 'demo', fill } } })
  const measure = async (model: string) =>
    (await core.api.getHil({ run: await run({ kind: 'hil-evaluate', params: { model, board: 'demo', limit } }) })).accuracy
  const associativeModel = await train('associative')
  const associative = await measure(associativeModel)
  const tuned = await core.api.getHil({
    run: await run({ kind: 'hil-finetune', params: { model: associativeModel, board: 'demo', epochs: 2, trainLimit: 4000, limit } }),
  })
  const orderedModel = await train('ordered')
  const ordered = await measure(orderedModel)
  const loss = associative.associative! - associative.measured!
  const accuracy = (a: typeof associative) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, round(v)]))
  console.log(
    JSON.stringify(
      {
        board: 'demo (emulated, seed 7)',
        architecture: values.architecture,
        fill,
        epochs,
        testSamples: limit,
        calibration: {
          run: calibration,
          ordering: quality.ordering,
          saturation: round(quality.saturation),
          noiseStd: round(quality.noiseStd),
          validationRms: {
            calibrated: round(quality.validation.calibrated),
            associative: round(quality.validation.associative),
            nominal: round(quality.validation.nominal),
          },
        },
        associativeTrained: accuracy(associative),
        afterHilFinetune: tuned.epochs.map((e) => ({ epoch: e.epoch, ...accuracy(e.accuracy) })),
        orderedTrained: accuracy(ordered),
        lossOnBoard: round(loss),
        recoveredByFinetune: round((tuned.epochs.at(-1)!.accuracy.measured! - associative.measured!) / loss),
        recoveredByOrderedTraining: round((ordered.measured! - associative.measured!) / loss),
        seconds: Math.round((performance.now() - started) / 1000),
      },
      null,
      2,
    ),
  )
} finally {
  await core.analog.closeAll()
  bench.close()
}

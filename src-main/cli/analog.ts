// benchside analog list|calibrate|show, benchside hil eval|finetune: analog boards (real or the emulated demo board),
// their calibration, and hardware-in-the-loop evaluation and fine-tuning.
import type { Command } from 'commander'
import { CalibrateParams, HilEvaluateParams, HilFinetuneParams, type AnalogCalibration, type HilResult } from '../contract/index.ts'
import { checked, keywordOrList, withDefault, type OpenApi } from './api.ts'
import { followJob } from './jobs.ts'
import { formatTime, printJson, printTable } from './output.ts'

const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)
const num = (v: number, digits = 3) => Number(v.toPrecision(digits)).toString()
const layersOption = (value: string | undefined) => keywordOrList(value, ['dense', 'all'])

export function registerAnalogCommands(program: Command, openApi: OpenApi): void {
  const analog = program.command('analog').description('analog processor boards on serial ports, and the emulated demo board')
  analog
    .command('list')
    .description('serial ports that look like analog boards, plus the demo board')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { boards, warning } = await (await openApi()).listAnalogBoards({})
      if (o.json) return printJson({ boards, warning })
      if (warning) console.log(`Note: ${warning}`)
      printTable(
        ['PORT', 'NAME', 'KIND', 'STATE', 'DEVICE'],
        boards.map((b) => [b.port, b.name, b.kind, b.state, b.deviceId ?? '-']),
      )
    })
  analog
    .command('info <port>')
    .description('connects to a board (a port path, or demo) and prints what it reports')
    .option('--json', 'print JSON')
    .action(async (port: string, o) => {
      const status = await (await openApi()).connectAnalogBoard({ port })
      if (o.json) return printJson(status)
      const i = status.info!
      console.log(`${status.name}: device ${i.deviceId}, firmware ${i.firmware}, protocol ${i.protocolVersion}`)
      console.log(
        `array ${i.rows} rows × ${i.cols} columns · inputs ${i.inputBits}-bit · weights ${i.weightBits}-bit + sign · ADC ${i.adcBits}-bit · ${i.slots} slots · batches up to ${i.maxBatch}`,
      )
      if (status.calibration)
        console.log(`calibrated ${formatTime(status.calibration.createdAt)} (validation RMS ${num(status.calibration.validationRms)} codes)`)
    })
  analog
    .command('calibrate')
    .description("fits Benchside's analog model to a board: gains, offsets, noise, saturation, ordering (a job)")
    .option('--board <port>', withDefault('a serial port path, or demo', CalibrateParams.shape.board))
    .option('--repeats <n>', withDefault('ADC reads per probe vector', CalibrateParams.shape.repeats), Number)
    .option('--json', 'print the calibration as JSON')
    .action(async (o) => {
      const params = checked(CalibrateParams, { board: o.board, repeats: o.repeats }, 'params')
      const api = await openApi()
      const run = await api.startJob({ kind: 'analog-calibrate', params })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const device = (await api.getRun({ run: done.uuid })).params.device!
      const calibration = (await api.getAnalogCalibration({ device }))!
      if (o.json) return printJson(calibration)
      printCalibration(calibration)
    })
  analog
    .command('show <device>')
    .description("a board's newest calibration (its device id, or the port it was last seen on)")
    .option('--json', 'print JSON')
    .action(async (device: string, o) => {
      const calibration = await (await openApi()).getAnalogCalibration({ device })
      if (o.json) return printJson(calibration)
      if (!calibration) return console.log(`No calibration for '${device}' yet: benchside analog calibrate --board <port>`)
      printCalibration(calibration)
    })

  const hil = program.command('hil').description('hardware in the loop: a model’s dense/conv layers on an analog board')
  hil
    .command('eval <model>')
    .description('measured accuracy on the board next to float, associative and ordered simulation (a job)')
    .option('--board <port>', withDefault('a serial port path, or demo', HilEvaluateParams.shape.board))
    .option('--layers <which>', withDefault('dense, all (dense and conv), or ids like fc1,fc2', HilEvaluateParams.shape.layers))
    .option('--limit <n>', withDefault('test samples', HilEvaluateParams.shape.limit), Number)
    .option('--seed <n>', withDefault('seed of the simulated noise', HilEvaluateParams.shape.seed), Number)
    .option('--json', 'print JSON')
    .action(async (model: string, o) => {
      const params = checked(HilEvaluateParams, { model, board: o.board, layers: layersOption(o.layers), limit: o.limit, seed: o.seed }, 'params')
      const api = await openApi()
      const run = await api.startJob({ kind: 'hil-evaluate', params })
      const done = await followJob(api, run, Boolean(o.json))
      const result = await api.getHil({ run: done.uuid }).catch(() => null)
      if (o.json) return printJson(result)
      if (result) printHil(result)
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })
  hil
    .command('finetune <model>')
    .description('fine-tunes with the forward pass on the board and the backward pass through the calibrated model (a job)')
    .option('--board <port>', withDefault('a serial port path, or demo', HilFinetuneParams.shape.board))
    .option('--layers <which>', withDefault('dense, all, or ids like fc1,fc2', HilFinetuneParams.shape.layers))
    .option('--epochs <n>', withDefault('epochs', HilFinetuneParams.shape.epochs), Number)
    .option('--train-limit <n>', withDefault('training samples per epoch', HilFinetuneParams.shape.trainLimit), Number)
    .option('--batch-size <n>', withDefault('batch size', HilFinetuneParams.shape.batchSize), Number)
    .option('--lr <rate>', withDefault('learning rate', HilFinetuneParams.shape.learningRate), Number)
    .option('--limit <n>', withDefault('test samples measured before and after each epoch', HilFinetuneParams.shape.limit), Number)
    .option('--seed <n>', withDefault('seed', HilFinetuneParams.shape.seed), Number)
    .option('--json', 'print JSON')
    .action(async (model: string, o) => {
      const params = checked(
        HilFinetuneParams,
        {
          model,
          board: o.board,
          layers: layersOption(o.layers),
          epochs: o.epochs,
          trainLimit: o.trainLimit,
          batchSize: o.batchSize,
          learningRate: o.lr,
          limit: o.limit,
          seed: o.seed,
        },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({ kind: 'hil-finetune', params })
      const done = await followJob(api, run, Boolean(o.json))
      const result = await api.getHil({ run: done.uuid }).catch(() => null)
      if (o.json) return printJson(result)
      if (result) printHil(result)
      if (done.status === 'FINISHED') console.log(`The fine-tuned model is ${done.uuid.slice(0, 8)} (benchside models list).`)
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })
}

function printCalibration(c: AnalogCalibration): void {
  const q = c.quality
  console.log(`Device ${c.deviceId}, calibrated ${formatTime(c.createdAt)}${c.run ? ` (run ${c.run.slice(0, 8)})` : ''}`)
  console.log(
    `column gain ${num(q.columnGain.mean)} ± ${num(q.columnGain.std)} · offset ${num(q.columnOffset.mean)} ± ${num(q.columnOffset.std)} codes · noise ${num(q.noiseStd)} codes · saturation ±${num(q.saturation)} codes · gain fit R² median ${num(q.gainR2.median, 4)}`,
  )
  console.log(
    `ordering: ${q.orderingDetected && q.ordering ? `${q.ordering.order} order, groups of ${q.ordering.groupRows} rows` : 'no ordering effect found (associative)'}`,
  )
  printTable(
    ['INTEGRATION MODEL', 'RMS ON ORDERING PROBES (codes)'],
    q.candidates.map((c) => [c.label, num(c.rms)]),
  )
  console.log(
    `held-out layers (${q.validation.vectors} vectors): RMS error ${num(q.validation.calibrated)} codes calibrated · ${num(q.validation.associative)} associative · ${num(q.validation.nominal)} nominal`,
  )
}

function printHil(r: HilResult): void {
  console.log(
    `${r.kind} ${r.run.slice(0, 8)} (${r.status}) on ${r.deviceId}${r.calibrated ? '' : ' (not calibrated: nominal model)'} · layers ${r.layers.join(', ')} · ${r.samples} samples`,
  )
  printTable(
    ['VARIANT', 'ACCURACY'],
    [
      ['float', percent(r.accuracy.float)],
      ['simulated, associative', percent(r.accuracy.associative)],
      ['simulated, ordered', percent(r.accuracy.ordered)],
      ['measured on the board', percent(r.accuracy.measured)],
    ],
  )
  printTable(
    ['LAYER', 'MEASURED MEAN ± STD', 'ORDERED RMS', 'ORDERED r', 'ASSOCIATIVE RMS', 'ASSOCIATIVE r'],
    r.perLayer.map((l) => [
      l.layer,
      `${num(l.measured.mean)} ± ${num(l.measured.std)}`,
      num(l.ordered.rms),
      num(l.ordered.correlation, 4),
      num(l.associative.rms),
      num(l.associative.correlation, 4),
    ]),
  )
  if (r.epochs.length)
    printTable(
      ['EPOCH', 'LOSS', 'MEASURED', 'ORDERED SIM'],
      r.epochs.map((e) => [e.epoch, e.loss === null ? '-' : num(e.loss), percent(e.accuracy.measured), percent(e.accuracy.ordered)]),
    )
}

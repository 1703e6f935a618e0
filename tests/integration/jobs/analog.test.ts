// Analog boards end to end on the emulated demo board (a real emulator process on a real PTY pair): calibration
// recovers the emulator's hidden non-idealities, hardware-in-the-loop evaluation and fine-tuning run, and losing the
// board mid-run fails the run with a clear error, keeps what was measured, and the next run reconnects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import type { Core } from '../../../src-main/core.ts'
import { hiddenParameters } from '../../../src-main/hardware/emulator/analog-array.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { waitFor } from '../../helpers/temp-home.ts'

// The demo board is the emulator with seed 7 (hardware/analog-devices.ts). Its hidden values are read here only to
// judge the calibration; Benchside itself never sees them.
const hidden = hiddenParameters(7)

describe('analog boards and hardware in the loop (demo board)', requires('pty'), () => {
  let harness: JobHarness
  let core: Core
  let model: string

  beforeAll(async () => {
    harness = jobHarness()
    core = harness.core
    const train = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
    expect((await harness.finish(train.uuid)).state).toBe('finished')
    model = train.uuid
  })
  afterAll(async () => {
    await core.analog.closeAll()
    harness.close()
  })

  it('lists the demo board, connects it and reads its INFO', async () => {
    const { boards } = await core.api.listAnalogBoards({})
    expect(boards.find((b) => b.port === 'demo')).toMatchObject({ kind: 'emulated', state: 'available' })
    const status = await core.api.connectAnalogBoard({ port: 'demo' })
    expect(status).toMatchObject({ state: 'connected', deviceId: 'EMU-00000007', info: { rows: 128, cols: 256, inputBits: 5, weightBits: 6, adcBits: 8 } })
  })

  it('calibrates: per-column gain and offset, noise, saturation and the ordering are recovered', async () => {
    const run = await core.api.startJob({ kind: 'analog-calibrate', params: { board: 'demo', repeats: 16 } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const calibration = (await core.api.getAnalogCalibration({ device: 'demo' }))!
    expect(calibration.run).toBe(run.uuid)
    const { model: fitted, quality } = calibration
    // The protocol's gain unit is nominal: the board's global gain shows up in every column's gain.
    const gainErrors = fitted.columnGain.map((g, j) => Math.abs(g / (hidden.globalGain * hidden.columnGain[j]!) - 1))
    expect(Math.max(...gainErrors)).toBeLessThan(0.02)
    const offsetErrors = fitted.columnOffset.map((o, j) => Math.abs(o - hidden.columnOffset[j]!))
    expect(Math.max(...offsetErrors)).toBeLessThan(0.5)
    expect(Math.abs(fitted.saturation / hidden.saturation - 1)).toBeLessThan(0.02)
    expect(Math.abs(fitted.noiseStd / hidden.noiseStd - 1)).toBeLessThan(0.15)
    expect(quality.orderingDetected).toBe(true)
    // The emulator integrates each block's positive operands before its negative ones: Benchside's 'sign' order.
    expect(fitted.ordering).toEqual({ order: 'sign', groupRows: hidden.orderBlockRows })
    expect(quality.candidates[0]!.rms).toBeLessThan(quality.candidates.find((c) => c.label === 'associative')!.rms / 5)
    expect(quality.validation.calibrated).toBeLessThan(quality.validation.nominal)
    const status = (await core.api.listAnalogBoards({})).boards.find((b) => b.port === 'demo')!
    expect(status.calibration?.run).toBe(run.uuid)
    // Disconnected, the board still shows the calibration of the device last seen on its port.
    await core.api.disconnectAnalogBoard({ port: 'demo' })
    expect((await core.api.listAnalogBoards({})).boards.find((b) => b.port === 'demo')).toMatchObject({ state: 'available', calibration: { run: run.uuid } })
  })

  it('evaluates a model with its dense layers on the board, next to float and simulated', async () => {
    const run = await core.api.startJob({ kind: 'hil-evaluate', params: { model, board: 'demo', limit: 400 } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const result = await core.api.getHil({ run: run.uuid })
    expect(result).toMatchObject({ deviceId: 'EMU-00000007', calibrated: true, layers: ['fc1', 'fc2', 'fc3', 'logits'], samples: 400 })
    const { float, ordered, measured } = result.accuracy
    expect(float).toBeGreaterThan(0.7)
    // The board computes what the network computes, roughly: far above chance, within reach of float.
    expect(measured).toBeGreaterThan(float! - 0.15)
    expect(Math.abs(measured! - ordered!)).toBeLessThan(0.1)
    for (const layer of result.perLayer) {
      expect(layer.ordered.correlation).toBeGreaterThan(0.9)
      expect(layer.scatter.length).toBeGreaterThan(50)
    }
  })

  it('runs conv layers on the board as im2col patches', async () => {
    const train = await core.api.startJob({ kind: 'train', params: { architecture: 'lenet5', epochs: 1, validationFraction: 0 } })
    expect((await harness.finish(train.uuid)).state).toBe('finished')
    const run = await core.api.startJob({ kind: 'hil-evaluate', params: { model: train.uuid, board: 'demo', layers: 'all', limit: 50 } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const result = await core.api.getHil({ run: run.uuid })
    expect(result.layers).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'logits'])
    expect(result.accuracy.measured).toBeGreaterThan(0.5)
    for (const layer of result.perLayer) expect(layer.ordered.correlation).toBeGreaterThan(0.95)
    // conv1 has 6 filters over 28×28 'same' positions: every position's output was measured.
    expect(result.perLayer[0]!.outputs).toBe(28 * 28 * 6)
  })

  it('fine-tunes with the forward pass on the board and stores the result as a model', async () => {
    const run = await core.api.startJob({ kind: 'hil-finetune', params: { model, board: 'demo', epochs: 1, trainLimit: 256, limit: 200 } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const result = await core.api.getHil({ run: run.uuid })
    expect(result.epochs.map((e) => e.epoch)).toEqual([0, 1])
    expect(result.epochs[1]!.loss).toBeGreaterThan(0)
    const models = await core.api.listModels({})
    expect(models.find((m) => m.id === run.uuid)).toMatchObject({ architecture: 'mlp-tfc', dataset: 'fashion-mnist-subset', source: 'trained' })
  })

  it('fails clearly when the board dies mid-run, keeps the results so far, and reconnects for the next run', async () => {
    const run = await core.api.startJob({ kind: 'hil-evaluate', params: { model, board: 'demo', limit: 4000 } })
    // After the first batch has been written, the emulator process dies.
    await waitFor(() => core.store.runs.detail(run.uuid).artifacts.some((a) => a.path === 'result.json'), 60_000, 'the first measured batch')
    core.analog.connection('demo')!.emulator!.kill('SIGKILL')
    const ended = await harness.finish(run.uuid, 60_000)
    expect(ended.state).toBe('failed')
    const summary = core.store.runs.summary(run.uuid)
    expect(summary.error).toMatch(/board|answer|port/i)
    const partial = await core.api.getHil({ run: run.uuid })
    expect(partial.samples).toBeGreaterThan(0)
    expect(partial.samples).toBeLessThan(4000)

    const again = await core.api.startJob({ kind: 'hil-evaluate', params: { model, board: 'demo', limit: 200 } })
    expect((await harness.finish(again.uuid)).state).toBe('finished')
    expect((await core.api.getHil({ run: again.uuid })).samples).toBe(200)
  })
})

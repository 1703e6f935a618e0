// The calibration job: fits Benchside's analog model to a board (inline: the serial connection lives in the main
// process) and stores it with the device, with the quality of the fit.
import type { JobContext, JobFunction } from '../context.ts'
import { calibrateBoard } from '../analog-calibration.ts'

const calibrateJob: JobFunction<'analog-calibrate'> = async (context: JobContext<'analog-calibrate'>, services) => {
  if (!services) throw new Error('The calibration job runs in the main process, where the board connections live.')
  const p = context.params
  context.progress(0, 'connecting', `board ${p.board}`)
  await services.analog.registry.withBoard(p.board, async ({ board, port }) => {
    const info = await board.info()
    services.analog.seen(info, port)
    context.param('device', info.deviceId)
    context.param('firmware', info.firmware)
    const { model, quality } = await calibrateBoard(board, {
      repeats: p.repeats,
      signal: context.signal,
      onProgress: (fraction, message) => context.progress(fraction, 'calibrating', message),
    })
    services.analog.saveCalibration(info.deviceId, context.runUuid, model, quality)
    context.metric('validation_rms_calibrated', quality.validation.calibrated, 0)
    context.metric('validation_rms_associative', quality.validation.associative, 0)
    context.metric('validation_rms_nominal', quality.validation.nominal, 0)
    context.metric('noise_std', quality.noiseStd, 0)
    context.metric('saturation', quality.saturation, 0)
    context.metric('gain_r2_median', quality.gainR2.median, 0)
    context.param('ordering', quality.ordering ? `${quality.ordering.order}/${quality.ordering.groupRows}` : 'associative')
    context.artifact('calibration.json', JSON.stringify({ deviceId: info.deviceId, model, quality }, null, 2))
    context.progress(1, 'done', `validation RMS ${quality.validation.calibrated.toFixed(2)} codes (nominal ${quality.validation.nominal.toFixed(2)})`)
  })
}

export default calibrateJob

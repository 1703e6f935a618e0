// The calibration job: fits Benchside's analog model to a board, reached through a board session in the main
// process, and stores it with the device, with the quality of the fit.
import type { JobContext, JobFunction } from '../context.ts'
import { calibrateBoard } from '../analog-calibration.ts'

const calibrateJob: JobFunction<'analog-calibrate'> = async (context: JobContext<'analog-calibrate'>) => {
  const p = context.params
  context.progress(0, 'connecting', `board ${p.board}`)
  await context.boards.using(
    p.board,
    async (session) => {
      const { info } = session
      context.param('device', info.deviceId)
      context.param('firmware', info.firmware)
      const { model, quality } = await calibrateBoard(session.board, {
        repeats: p.repeats,
        signal: context.signal,
        onProgress: (fraction, message) => context.progress(fraction, 'calibrating', message),
      })
      await session.saveCalibration(model, quality)
      context.metric('validation_rms_calibrated', quality.validation.calibrated, 0)
      context.metric('validation_rms_associative', quality.validation.associative, 0)
      context.metric('validation_rms_nominal', quality.validation.nominal, 0)
      context.metric('noise_std', quality.noiseStd, 0)
      context.metric('saturation', quality.saturation, 0)
      context.metric('gain_r2_median', quality.gainR2.median, 0)
      context.param('ordering', quality.ordering ? `${quality.ordering.order}/${quality.ordering.groupRows}` : 'associative')
      context.result({ deviceId: info.deviceId, model, quality })
      context.progress(1, 'done', `validation RMS ${quality.validation.calibrated.toFixed(2)} codes (nominal ${quality.validation.nominal.toFixed(2)})`)
    },
    { signal: context.signal },
  )
}

export default calibrateJob

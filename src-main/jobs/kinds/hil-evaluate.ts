// Hardware-in-the-loop evaluation: the test subset through the model with its analog layers on the board, next to
// float, associative and ordered simulation on the same inputs. The result is reported after every batch, so a run
// that loses the board keeps what it measured.
import type { HilMeasurement } from '../../contract/index.ts'
import type { JobContext, JobFunction } from '../context.ts'
import { evaluateOnBoard, withHilSession } from '../hil-session.ts'

const hilEvaluate: JobFunction<'hil-evaluate'> = (context: JobContext<'hil-evaluate'>) =>
  withHilSession(context, async (session) => {
    const p = context.params
    const base = { model: p.model, deviceId: session.info.deviceId, calibrated: session.calibrated, layers: session.layers.layerIds, epochs: [] }
    const write = (result: Omit<HilMeasurement, 'model' | 'deviceId' | 'calibrated' | 'layers' | 'epochs'>) => context.result({ ...base, ...result })
    context.progress(0.02, 'loading weights', `${session.layers.layerIds.length} layer(s)`)
    const result = await evaluateOnBoard(session, p.limit, p.seed, {
      signal: context.signal,
      onBatch: (done, total, partial) => {
        write({ samples: done, ...partial })
        context.progress(done / total, 'measuring', `${done} of ${total} samples · measured ${(partial.accuracy.measured * 100).toFixed(1)}%`)
      },
    })
    write(result)
    for (const [variant, value] of Object.entries(result.accuracy)) context.metric(`accuracy_${variant}`, value, 0)
    context.progress(1, 'done', `measured ${(result.accuracy.measured * 100).toFixed(1)}% · ordered sim ${(result.accuracy.ordered * 100).toFixed(1)}%`)
  })

export default hilEvaluate

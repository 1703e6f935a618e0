// Hardware-in-the-loop fine-tuning: every batch runs forward on the board (the weights reloaded where they changed),
// and the backward pass goes through the calibrated ordered model on the same inputs. Accuracies are measured before
// and after each epoch; the fine-tuned network is stored as a model, with its analog mapping.
import * as tf from '@tensorflow/tfjs'
import type { HilMeasurement } from '../../contract/index.ts'
import { batchTensors } from '../../engine/data/dataset.ts'
import { planHooks } from '../../engine/analog-plan.ts'
import { layersModelFiles } from '../../engine/model-files.ts'
import type { ComputeOverride } from '../../engine/network.ts'
import { seededRandom, shuffled } from '../../engine/random.ts'
import { boardForward, measuredWithModelGradient } from '../analog-hil.ts'
import type { JobContext, JobFunction } from '../context.ts'
import { evaluateOnBoard, withHilSession } from '../hil-session.ts'

const hilFinetune: JobFunction<'hil-finetune'> = (context: JobContext<'hil-finetune'>) =>
  withHilSession(context, async (session) => {
    const p = context.params
    const { net, dataset, plan, device, layers } = session
    const optimizer = tf.train.adam(p.learningRate)
    try {
      // The fine-tuned network is a model: say what it is, as a train run does.
      context.param('architecture', session.metadata.spec.architecture)
      if (p.dataset === undefined) context.param('dataset', context.inputs.dataset.id)
      const epochs: HilMeasurement['epochs'] = []
      const base = { model: p.model, deviceId: session.info.deviceId, calibrated: session.calibrated, layers: layers.layerIds }
      const steps = p.epochs * Math.ceil(Math.min(p.trainLimit, dataset.train.count) / p.batchSize)
      // Progress: the first measurement takes one share, each epoch one share (70% training, 30% measuring).
      const unit = 1 / (p.epochs + 1)
      const measuring = (epoch: number, fraction: number) => (epoch === 0 ? fraction : epoch + 0.7 + 0.3 * fraction) * unit
      const measure = async (epoch: number, loss: number | null) => {
        const result = await evaluateOnBoard(session, p.limit, p.seed, {
          signal: context.signal,
          onBatch: (done, total) => context.progress(measuring(epoch, done / total), 'measuring', `after epoch ${epoch}: ${done} of ${total} samples`),
        })
        epochs.push({ epoch, loss, accuracy: result.accuracy })
        for (const [variant, value] of Object.entries(result.accuracy)) context.metric(`accuracy_${variant}`, value, epoch)
        context.result({ ...base, ...result, epochs })
      }

      await measure(0, null)
      const classes = dataset.classNames.length
      let step = 0
      for (let epoch = 1; epoch <= p.epochs; epoch++) {
        const order = shuffled([...Array(dataset.train.count).keys()], seededRandom(p.seed * 1000 + epoch)).slice(0, p.trainLimit)
        let lossSum = 0
        for (let start = 0; start < order.length; start += p.batchSize) {
          context.signal.throwIfAborted()
          const { x, y } = batchTensors(dataset, dataset.train, order.slice(start, start + p.batchSize))
          await layers.load({ signal: context.signal })
          const staged = await boardForward(net, x, layers, { signal: context.signal })
          const sim = planHooks(net, plan, device, 'ordered', p.seed * 7919 + step)
          // Forward: the board's outputs. Backward: the calibrated ordered model's gradient at the same inputs.
          const compute = new Map<string, ComputeOverride>(
            layers.layerIds.map((id) => [
              id,
              (input, weights, node, training) => measuredWithModelGradient(sim.compute!.get(id)!(input, weights, node, training), staged.outputs.get(id)!),
            ]),
          )
          const loss = optimizer.minimize(
            // BN and the like in inference mode: the board saw the layer inputs that mode gives.
            () => tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), net.forward(x, { training: false, hooks: { compute } })) as tf.Scalar,
            true,
            net.trainableWeights,
          )!
          lossSum += (await loss.data())[0]! * order.slice(start, start + p.batchSize).length
          tf.dispose([x, y, loss, staged.logits, ...staged.inputs.values(), ...staged.outputs.values()])
          step++
          context.progress(
            (epoch + 0.7 * Math.min(1, (start + p.batchSize) / order.length)) * unit,
            'fine-tuning',
            `epoch ${epoch} of ${p.epochs} · step ${step} of ${steps}`,
          )
        }
        context.metric('train_loss', lossSum / order.length, epoch)
        await measure(epoch, lossSum / order.length)
      }
      const metadata = { ...session.metadata, analog: { ...plan, integration: 'ordered' as const, device: session.calibrated ? session.info.deviceId : null } }
      const files = await layersModelFiles(net, metadata)
      for (const [name, content] of Object.entries(files)) context.artifact(`model/${name}`, content)
      const [first, last] = [epochs[0]!.accuracy.measured!, epochs.at(-1)!.accuracy.measured!]
      context.metric('test_accuracy', last, 0)
      context.progress(1, 'done', `measured ${(first * 100).toFixed(1)}% → ${(last * 100).toFixed(1)}%`)
    } finally {
      optimizer.dispose()
    }
  })

export default hilFinetune

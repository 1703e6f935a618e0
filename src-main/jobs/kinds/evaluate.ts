// The evaluate job: a stored model on a dataset split — accuracy, loss and the confusion matrix.
import { initBackend } from '../../engine/backend.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { evaluate } from '../../engine/evaluate.ts'
import { importLayersModel } from '../../engine/model-files.ts'
import { storedModelHooks } from '../../engine/stored-hooks.ts'
import type { JobContext } from '../context.ts'

export default async function evaluateJob(context: JobContext<'evaluate'>): Promise<void> {
  context.progress(0, 'preparing', 'loading the model and the dataset')
  const backend = await initBackend()
  context.param('backend', backend.name)
  const { net, metadata } = await importLayersModel(context.inputs.modelJson)
  const dataset = loadDataset(context.inputs.dataset)
  if (dataset.sampleShape.join() !== metadata.sampleShape.join()) {
    throw new Error(`The model takes ${metadata.sampleShape.join('×')} samples but ${dataset.name} has ${dataset.sampleShape.join('×')}.`)
  }
  if (dataset.classNames.length !== metadata.classNames.length) {
    throw new Error(`The model predicts ${metadata.classNames.length} classes but ${dataset.name} has ${dataset.classNames.length}.`)
  }
  // The model's own normalisation, so it sees inputs as it did in training.
  const evaluated = { ...dataset, normalization: metadata.normalization }
  const split = context.params.split === 'train' ? dataset.train : dataset.test
  context.progress(0.1, 'evaluating', `${split.count} samples`)
  // A quantization-aware-trained or compressed model is evaluated with its quantization.
  const hooks = storedModelHooks(net, metadata)
  const result = await evaluate(net, evaluated, split, { hooks })
  context.metric('accuracy', result.accuracy, 0)
  context.metric('loss', result.loss, 0)
  context.result({
    split: context.params.split,
    accuracy: result.accuracy,
    loss: result.loss,
    confusion: { classNames: dataset.classNames, matrix: result.confusion },
  })
  context.progress(1, 'done', `accuracy ${(result.accuracy * 100).toFixed(1)}%`)
  net.dispose()
}

// The model-import job: reads a model.json (Benchside or tfjs LayersModel) or NPZ weights for a built-in architecture,
// checks every weight against the architecture, and writes the model into this run as model/model.json: the run is
// the model (docs: "Models are runs"). The files are written last, model.json after its weights, so a run that
// failed or was cancelled never holds a model.
import { initBackend } from '../../engine/backend.ts'
import type { Dataset } from '../../engine/data/dataset.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { importLayersModel, importWeightsNpz, layersModelFiles, type ModelMetadata } from '../../engine/model-files.ts'
import { Network } from '../../engine/network.ts'
import { architecture } from '../../engine/zoo.ts'
import type { JobContext } from '../context.ts'

/** What an architecture built for a dataset needs to be stored as a model. */
function metadataFor(architectureId: string, dataset: Dataset): ModelMetadata {
  return {
    spec: architecture(architectureId).build(dataset.sampleShape, dataset.classNames.length),
    classNames: dataset.classNames,
    normalization: dataset.normalization,
    sampleShape: dataset.sampleShape,
  }
}

async function readModel(context: JobContext<'model-import'>): Promise<{ net: Network; metadata: ModelMetadata }> {
  const { path, architecture: architectureId } = context.params
  const dataset = context.inputs.dataset
  const fallback = architectureId && dataset ? metadataFor(architectureId, loadDataset(dataset)) : undefined
  if (!path.toLowerCase().endsWith('.npz')) return importLayersModel(path, fallback)
  if (!fallback) throw new Error('NPZ weights need --architecture and --dataset: the file holds only weights.')
  const net = new Network(fallback.spec)
  try {
    importWeightsNpz(net, path)
  } catch (error) {
    net.dispose()
    throw error
  }
  return { net, metadata: fallback }
}

export default async function modelImportJob(context: JobContext<'model-import'>): Promise<void> {
  const { path, architecture: named, dataset } = context.params
  context.progress(0.05, 'preparing', 'the compute backend')
  await initBackend()
  context.progress(0.2, 'reading', path)
  const { net, metadata } = await readModel(context)
  try {
    const found = metadata.spec.architecture
    if (named && found !== named) throw new Error(`${path}: the file holds a ${found}, not the ${named} it was imported as.`)
    context.progress(0.7, 'writing', 'model.json and weights.bin')
    // An exported Benchside model says which dataset it was trained on; one named at import wins.
    const datasetId = dataset ?? metadata.dataset ?? null
    const files = await layersModelFiles(net, datasetId ? { ...metadata, dataset: datasetId } : metadata)
    context.param('architecture', found)
    context.param('dataset', datasetId ?? 'unknown')
    context.artifact('model/weights.bin', files['weights.bin'])
    context.artifact('model/model.json', files['model.json'])
    const weights = net.model.weights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0)
    context.result({ architecture: found, dataset: datasetId, classNames: metadata.classNames, sampleShape: metadata.sampleShape, weights })
    context.progress(1, 'imported', `${found}, ${weights.toLocaleString('en-US')} weights`)
  } finally {
    net.dispose()
  }
}

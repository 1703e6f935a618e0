// Models: architectures, and trained or imported models — a model is a run holding model/model.json as an artifact.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { BenchsideError, EnsembleTrainParams, type AnalogCalibration, type JobSpec, type ModelDetail, type ModelInfo } from '../contract/index.ts'
import { DataFileError } from '../engine/data/errors.ts'
import type { ModelMetadata } from '../engine/model-files.ts'
import { architecture, architectures } from '../engine/zoo.ts'
import type { LayerShape } from '../hardware/layer-latency.ts'
import { boardLayersOf } from '../jobs/network-layers.ts'
import type { EnsembleSource } from '../jobs/ensembles.ts'
import { checkCompressible } from './compression-inputs.ts'
import type { JobInputs } from '../jobs/inputs.ts'
import type { JobManager } from '../jobs/manager.ts'
import type { Store } from '../store/store.ts'
import type { DatasetCatalog } from './datasets.ts'
import type { HandlersFor } from './handlers.ts'
import { engine, loadEngine } from './lazy-engine.ts'

const MODEL_FILE = 'model/model.json'
const MODEL_KINDS = ['train', 'model-import', 'hil-finetune', 'compression-apply']

type ModelMethod = 'listArchitectures' | 'describeArchitecture' | 'listModels' | 'getModel' | 'exportModel' | 'importModel' | 'renameModel' | 'deleteModel'

export class ModelCatalog {
  constructor(private readonly store: Store) {}

  resolve(id: string): string {
    return this.store.runs.resolve(id)
  }

  modelJson(id: string): string {
    const uuid = this.store.runs.resolve(id)
    const file = this.store.runs.artifactPath(uuid, MODEL_FILE)
    if (!existsSync(file)) {
      throw new BenchsideError({ code: 'NOT_FOUND', field: 'model', message: `Run ${id} holds no model; 'benchside models list' shows the models.` })
    }
    return file
  }

  runSummary(uuid: string): { kind: string; status: string } {
    return this.store.runs.summary(uuid)
  }

  /** The params a run was started with, as stored with its job spec. */
  jobParams(uuid: string): unknown {
    return (this.store.runs.jobSpec(uuid) as { params?: unknown } | null)?.params
  }

  /** A run's artifact that must exist (an ensemble's member files). */
  artifactFile(uuid: string, path: string): string {
    const file = this.store.runs.artifactPath(uuid, path)
    if (!existsSync(file)) throw new BenchsideError({ code: 'NOT_FOUND', message: `Run ${uuid.slice(0, 8)} has no ${path}; was it trained to the end?` })
    return file
  }

  /** What a stored model is: architecture spec, classes, input shape, normalisation, and how it was trained. */
  metadata(id: string): ModelMetadata {
    const file = this.modelJson(id)
    try {
      return engine().modelFiles.readModelMetadata(file)
    } catch (error) {
      if (error instanceof DataFileError) throw new BenchsideError({ code: 'CONFLICT', field: 'model', message: `Model ${id}: ${error.message}` })
      throw error
    }
  }

  info(uuid: string): ModelInfo {
    const run = this.store.runs.summary(uuid)
    const params = this.store.runs.params(uuid)
    const accuracy = this.store.runs.lastMetric(uuid, 'test_accuracy')
    // A HIL fine-tuning's test_accuracy is the board's, on `limit` test samples: never shown as a test-split figure.
    const onBoard = run.kind === 'hil-finetune'
    const samples = Number(params.limit)
    return {
      id: uuid,
      name: run.name,
      architecture: params.architecture ?? 'unknown',
      dataset: params.dataset ?? 'unknown',
      source: run.kind === 'model-import' ? 'imported' : 'trained',
      kind: run.kind,
      testAccuracy: onBoard ? null : accuracy,
      boardAccuracy: onBoard ? accuracy : null,
      boardSamples: onBoard && Number.isFinite(samples) ? samples : null,
      backend: params.backend ?? null,
      device: onBoard ? (params.device ?? params.board ?? null) : null,
      createdAt: run.createdAt,
    }
  }

  /** Throws NOT_FOUND unless `id` is a model (a live run holding a model). */
  checkModel(id: string): string {
    const uuid = this.resolve(id)
    this.modelJson(uuid)
    if (!MODEL_KINDS.includes(this.store.runs.summary(uuid).kind)) {
      throw new BenchsideError({ code: 'NOT_FOUND', field: 'model', message: `Run ${id} is not a model; 'benchside models list' shows the models.` })
    }
    return uuid
  }

  list(): ModelInfo[] {
    return this.store.runs.withArtifact(MODEL_FILE, MODEL_KINDS).map((run) => this.info(run.uuid))
  }
}

async function fileErrorAsync<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof DataFileError) throw new BenchsideError({ code: 'INVALID_ARGS', field: 'path', message: error.message })
    throw error
  }
}

function knownArchitecture(id: string) {
  try {
    return architecture(id)
  } catch (error) {
    throw new BenchsideError({ code: 'NOT_FOUND', field: 'architecture', message: (error as Error).message })
  }
}

export function modelHandlers(
  store: Store,
  datasets: DatasetCatalog,
  models: ModelCatalog,
  jobs: JobManager,
  changed: () => void = () => {},
): HandlersFor<ModelMethod> {
  const metadataFor = (architectureId: string, datasetId: string): ModelMetadata => {
    const dataset = datasets.load(datasetId)
    return {
      spec: knownArchitecture(architectureId).build(dataset.sampleShape, dataset.classNames.length),
      classNames: dataset.classNames,
      normalization: dataset.normalization,
      sampleShape: dataset.sampleShape,
    }
  }

  return {
    listArchitectures: () => architectures.map(({ id, summary }) => ({ id, summary })),

    describeArchitecture: async ({ architecture: id, dataset }) => {
      const { Network } = (await loadEngine()).network
      const net = new Network(metadataFor(id, dataset).spec)
      const points = net.points
      net.dispose()
      return points
    },

    listModels: () => models.list(),

    renameModel: ({ model, name }) => {
      const uuid = models.checkModel(model)
      store.runs.rename(uuid, name)
      changed()
      return models.info(uuid)
    },

    deleteModel: ({ model }) => {
      const uuid = models.checkModel(model)
      const summary = store.runs.setDeleted(uuid, true)
      changed()
      return summary
    },

    getModel: async ({ model }) => {
      const { importLayersModel } = (await loadEngine()).modelFiles
      const file = models.modelJson(model)
      const { net, metadata } = await fileErrorAsync(() => importLayersModel(file))
      const detail: ModelDetail = {
        ...models.info(store.runs.resolve(model)),
        classNames: metadata.classNames,
        sampleShape: metadata.sampleShape,
        points: net.points,
      }
      net.dispose()
      return detail
    },

    exportModel: async ({ model, format, path, overwrite }) => {
      const { importLayersModel, exportWeightsNpz } = (await loadEngine()).modelFiles
      const file = models.modelJson(model)
      const targets = format === 'layers' ? ['model.json', 'weights.bin'].map((name) => join(path, name)) : [path]
      const existing = targets.filter((target) => existsSync(target))
      if (existing.length > 0 && !overwrite) {
        throw new BenchsideError({
          code: 'CONFLICT',
          field: 'path',
          message: `${existing.map((target) => basename(target)).join(' and ')} exist(s) already there; choose another place, or overwrite on purpose (--force).`,
        })
      }
      if (format === 'layers') {
        mkdirSync(path, { recursive: true })
        const files = ['model.json', 'weights.bin'].map((name) => {
          copyFileSync(join(dirname(file), name), join(path, name))
          return join(path, name)
        })
        return { files }
      }
      const { net } = await fileErrorAsync(() => importLayersModel(file))
      mkdirSync(dirname(path), { recursive: true })
      exportWeightsNpz(net, path)
      net.dispose()
      return { files: [path] }
    },

    importModel: async ({ path, architecture: architectureId, dataset, name }) => {
      // Only what needs no reading is checked here; the job reads the files and checks every weight.
      if (!existsSync(path)) throw new BenchsideError({ code: 'NOT_FOUND', field: 'path', message: `There is no file at ${path}.` })
      if (path.toLowerCase().endsWith('.npz') && !(architectureId && dataset)) {
        throw new BenchsideError({
          code: 'INVALID_ARGS',
          field: 'architecture',
          message: 'NPZ weights need --architecture and --dataset: the file holds only weights.',
        })
      }
      // Starting it resolves the dataset id through the catalog, which needs the engine modules.
      await loadEngine()
      const fileName = basename(path)
      // A web upload's folder is a random id: name such an import after its file, not the folder.
      const uploaded = dirname(dirname(path)) === join(store.dataDir, 'uploads')
      const title = name ?? `imported ${architectureId ?? (fileName === 'model.json' && !uploaded ? basename(dirname(path)) : fileName)}`
      return jobs.start({ kind: 'model-import', params: { path, architecture: architectureId, dataset } }, { name: title })
    },
  }
}

/**
 * Resolves a job's ids once, at its start: the spec comes back with every model id as the full uuid (users type
 * prefixes), and with the files its process reads.
 */
export function prepareJobInputs(
  typed: JobSpec,
  datasets: DatasetCatalog,
  models: ModelCatalog,
  calibrationOf: (deviceId: string) => AnalogCalibration | null = () => null,
  /** Throws a NOT_FOUND BenchsideError for a board id nobody registered. */
  checkBoard: (id: string) => void = () => {},
): { spec: JobSpec; inputs: JobInputs } {
  const spec = withFullModelId(typed, models)
  return { spec, inputs: inputsOf(spec, datasets, models, calibrationOf, checkBoard) }
}

function withFullModelId(spec: JobSpec, models: ModelCatalog): JobSpec {
  if (!('model' in spec.params) || typeof spec.params.model !== 'string') return spec
  return { ...spec, params: { ...spec.params, model: models.resolve(spec.params.model) } } as JobSpec
}

function inputsOf(
  spec: JobSpec,
  datasets: DatasetCatalog,
  models: ModelCatalog,
  calibrationOf: (deviceId: string) => AnalogCalibration | null,
  checkBoard: (id: string) => void,
): JobInputs {
  switch (spec.kind) {
    case 'selftest':
    case 'analog-calibrate':
      return {}
    case 'train': {
      knownArchitecture(spec.params.architecture)
      const analogDevice = calibratedDevice(spec.params.analog?.device, calibrationOf)
      return analogDevice ? { dataset: datasets.resolve(spec.params.dataset), analogDevice } : { dataset: datasets.resolve(spec.params.dataset) }
    }
    case 'robustness-study':
      knownArchitecture(spec.params.architecture)
      return { dataset: datasets.resolve(spec.params.dataset) }
    case 'evaluate':
    case 'sweep':
    case 'hil-evaluate':
    case 'hil-finetune': {
      const modelJson = models.modelJson(spec.params.model)
      const datasetId = spec.params.dataset ?? datasetOfModel(models, spec.params.model)
      return { dataset: datasets.resolve(datasetId), modelJson }
    }
    case 'roofline':
      return {}
    case 'dataset-import':
      return { datasetsDir: datasets.importsDir() }
    case 'model-import':
      if (spec.params.architecture !== undefined) knownArchitecture(spec.params.architecture)
      return { dataset: spec.params.dataset === undefined ? null : datasets.resolve(spec.params.dataset) }
    case 'compression-search':
    case 'compression-baseline':
    case 'compression-apply':
    case 'compression-profile': {
      const modelUuid = models.resolve(spec.params.modelUuid)
      if (spec.params.board !== null) checkBoard(spec.params.board)
      checkCompressible(models.metadata(modelUuid), spec.kind === 'compression-apply' ? spec.params.policy : null)
      return { modelUuid, modelJson: models.modelJson(modelUuid), dataset: datasets.resolve(datasetOfModel(models, modelUuid)) }
    }
    case 'ensemble-train':
    case 'active-learning': {
      const modelUuid = models.resolve(spec.params.model)
      const dataset = datasets.resolve(datasetOfModel(models, modelUuid))
      const oodName = spec.kind === 'ensemble-train' ? spec.params.oodDataset : null
      if (spec.kind === 'ensemble-train' && spec.params.samples === 'ood' && spec.params.repulsion === 'function' && oodName === null) {
        throw new BenchsideError({
          code: 'INVALID_ARGS',
          field: 'params.oodDataset',
          message: 'Repulsion on OOD samples needs an OOD dataset; name one, or choose train or augment samples.',
        })
      }
      const oodDataset = oodName === null ? null : datasets.resolve(oodName)
      return spec.kind === 'ensemble-train'
        ? { modelUuid, modelJson: models.modelJson(modelUuid), dataset, oodDataset }
        : { modelUuid, modelJson: models.modelJson(modelUuid), dataset }
    }
    case 'uncertainty-evaluate': {
      const { run, ensemble, model } = ensembleSource(models, spec.params.ensemble)
      const dataset = datasets.resolve(spec.params.dataset ?? datasetOfModel(models, model))
      const oodDataset = spec.params.oodDataset === null ? null : datasets.resolve(spec.params.oodDataset)
      const analogDevice = calibratedDevice(spec.params.analog?.device, calibrationOf)
      return { ensembleRun: run, ensemble, dataset, oodDataset, ...(analogDevice ? { analogDevice } : {}) }
    }
    case 'layer-latency': {
      const metadata = models.metadata(spec.params.model)
      return { ...boardLayersOfModel(metadata), modelUuid: spec.params.model, architecture: metadata.spec.architecture }
    }
  }
}

/** The dense and conv layers of a stored model, in the agent's terms. */
export function boardLayersOfModel(metadata: ModelMetadata): { layers: LayerShape[]; skipped: string[] } {
  const net = new (engine().network.Network)(metadata.spec)
  try {
    return boardLayersOf(net)
  } finally {
    net.dispose()
  }
}

/** The calibrated model of an analog device named in params, or undefined for none (the nominal model). */
function calibratedDevice(device: string | undefined, calibrationOf: (deviceId: string) => AnalogCalibration | null) {
  if (device === undefined) return undefined
  const calibration = calibrationOf(device)
  if (!calibration)
    throw new BenchsideError({
      code: 'INVALID_ARGS',
      field: 'params.analog.device',
      message: `Board '${device}' has no calibration yet. Calibrate it first (benchside analog calibrate), or leave the device out to use the nominal model.`,
    })
  return calibration.model
}

/** An ensemble-train run's members as files, or a model as an ensemble of one. */
function ensembleSource(models: ModelCatalog, id: string): { run: string; ensemble: EnsembleSource; model: string } {
  const run = models.resolve(id)
  const summary = models.runSummary(run)
  if (summary.kind !== 'ensemble-train') return { run, ensemble: { kind: 'single', modelJson: models.modelJson(run) }, model: run }
  if (summary.status !== 'FINISHED') {
    throw new BenchsideError({ code: 'CONFLICT', field: 'params.ensemble', message: `Ensemble ${id} is ${summary.status}; evaluate a finished ensemble.` })
  }
  const params = EnsembleTrainParams.parse(models.jobParams(run))
  const model = models.resolve(params.model)
  if (params.method === 'last-layer') {
    return { run, model, ensemble: { kind: 'last-layer', modelJson: models.modelJson(model), headsFile: models.artifactFile(run, 'ensemble/heads.json') } }
  }
  const memberModelJsons = Array.from({ length: params.heads }, (_, m) => models.artifactFile(run, `ensemble/member-${m}/model.json`))
  return { run, model, ensemble: { kind: 'deep', memberModelJsons } }
}

function datasetOfModel(models: ModelCatalog, model: string): string {
  const info = models.info(models.resolve(model))
  if (info.dataset === 'unknown') {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: 'dataset', message: `Say which dataset to evaluate model ${model} on.` })
  }
  return info.dataset
}

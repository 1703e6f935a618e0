// Model files: the tfjs LayersModel format (model.json + weights.bin) and a weights-only NPZ whose array names are
// `<point id>/<weight>` (see docs/model-files.md), so a network trained elsewhere can be evaluated here.
import * as tf from '@tensorflow/tfjs'
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join, resolve, sep } from 'node:path'
import type { Normalization } from './data/dataset.ts'
import { DataFileError } from './data/errors.ts'
import { MAX_MODEL_JSON_BYTES } from './data/limits.ts'
import { encodeNpz, parseNpz } from './data/npy.ts'
import { readRegularFile } from './data/regular-file.ts'
import type { ModelSpec } from './graph.ts'
import { Network } from './network.ts'
import type { FrozenQuant } from './quant.ts'
import type { AnalogPlan } from './analog-plan.ts'
import type { LayerPolicy } from '../contract/index.ts'

/** What Benchside stores beside the weights so a file alone can rebuild and evaluate the network. */
export interface ModelMetadata {
  spec: ModelSpec
  classNames: string[]
  normalization: Normalization
  sampleShape: number[]
  /** The id of the dataset it was trained on, so an exported model imported again says it (absent in older files). */
  dataset?: string
  /** Set for quantization-aware-trained models: evaluation and sweeps apply the same quantization. */
  quant?: FrozenQuant
  /** Set for models trained through the analog model: the array mapping to run them with (simulated or on a board). */
  analog?: AnalogPlan
  /** Set for compressed models (already pruned in `spec`): per-layer bits and the calibrated input ranges they use. */
  compression?: StoredCompression
}

export interface StoredCompression {
  policy: LayerPolicy[]
  inputRanges: Record<string, { min: number; max: number }>
}

/** Weight name as files show it: `conv2.bn/gamma` for the tf layer `conv2__bn`'s `gamma`. */
function fileName(variableName: string): string {
  const [layer, weight] = variableName.split('/')
  return `${layer!.replace('__', '.')}/${weight}`
}

export function namedWeights(net: Network): { name: string; tensor: tf.Tensor }[] {
  return net.model.weights.map((w) => ({ name: fileName(w.originalName), tensor: w.read() }))
}

/** Sets every weight by name; any missing, extra or mis-shaped weight is an error and nothing is changed. */
export function assignWeights(net: Network, weights: ReadonlyMap<string, { shape: number[]; values: Float32Array }>, file: string): void {
  const expected = net.model.weights.map((w) => ({ variable: w, name: fileName(w.originalName) }))
  const problems: string[] = []
  for (const { variable, name } of expected) {
    const given = weights.get(name)
    if (!given) problems.push(`'${name}' is missing`)
    else if (given.shape.join() !== variable.shape.join())
      problems.push(`'${name}' is ${given.shape.join('×')}, the architecture needs ${variable.shape.join('×')}`)
  }
  const known = new Set(expected.map((e) => e.name))
  for (const name of weights.keys()) if (!known.has(name)) problems.push(`'${name}' is not part of ${net.spec.architecture}`)
  if (problems.length) {
    throw new DataFileError(
      file,
      `does not fit the architecture ${net.spec.architecture}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}.`,
    )
  }
  for (const { variable, name } of expected) {
    const given = weights.get(name)!
    variable.write(tf.tensor(given.values, given.shape))
  }
}

/** The two files of the tfjs LayersModel format, in memory, with Benchside's metadata inside model.json. */
export async function layersModelFiles(net: Network, metadata: ModelMetadata): Promise<{ 'model.json': string; 'weights.bin': Uint8Array }> {
  let files: { 'model.json': string; 'weights.bin': Uint8Array } | null = null
  await net.model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'Benchside',
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: { benchside: metadata },
      }
      files = { 'model.json': JSON.stringify(modelJson), 'weights.bin': new Uint8Array(data) }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } }
    }),
  )
  return files!
}

export async function exportLayersModel(net: Network, metadata: ModelMetadata, folder: string): Promise<string[]> {
  mkdirSync(folder, { recursive: true })
  const files = await layersModelFiles(net, metadata)
  return Object.entries(files).map(([name, content]) => {
    writeFileSync(join(folder, name), content)
    return join(folder, name)
  })
}

interface ModelJson {
  modelTopology?: unknown
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
  userDefinedMetadata?: { benchside?: ModelMetadata }
}

function readModelJson(modelJsonFile: string): ModelJson {
  const text = readRegularFile(modelJsonFile, MAX_MODEL_JSON_BYTES).toString('utf8')
  try {
    // The shape is checked field by field where it is used; a model.json is an interchange file, not our own record.
    return JSON.parse(text) as ModelJson
  } catch {
    // Never the parser's message: it quotes the file's first characters, and the path may name any file (a secret).
    throw new DataFileError(modelJsonFile, 'is not a readable model.json (not JSON).')
  }
}

/** A manifest's weight shape: a list of whole numbers, zero or more, whose product is a safe size. */
function isShape(shape: unknown): shape is number[] {
  return (
    Array.isArray(shape) &&
    shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) &&
    Number.isSafeInteger((shape as number[]).reduce((a, b) => a * b, 4))
  )
}

/** The Benchside metadata of a model.json, without reading its weights. */
export function readModelMetadata(modelJsonFile: string): ModelMetadata {
  const json = readModelJson(modelJsonFile)
  const metadata = json.userDefinedMetadata?.benchside
  if (!metadata?.spec || !Array.isArray(metadata.classNames))
    throw new DataFileError(modelJsonFile, 'has no Benchside metadata; re-import it with its architecture.')
  return metadata
}

/** Reads model.json + its weight files; the Benchside metadata rebuilds the network, or `fallback` supplies it. */
export async function importLayersModel(modelJsonFile: string, fallback?: ModelMetadata): Promise<{ net: Network; metadata: ModelMetadata }> {
  const json = readModelJson(modelJsonFile)
  if (!json.weightsManifest) throw new DataFileError(modelJsonFile, 'has no weightsManifest; is it a tfjs LayersModel model.json?')
  const metadata = json.userDefinedMetadata?.benchside ?? fallback
  if (!metadata) throw new DataFileError(modelJsonFile, 'was not saved by Benchside: choose the architecture it was trained with.')
  const folder = join(modelJsonFile, '..')
  const weights = new Map<string, { shape: number[]; values: Float32Array }>()
  if (!Array.isArray(json.weightsManifest)) throw new DataFileError(modelJsonFile, 'has a weightsManifest that is not a list.')
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !group.paths.every((p) => typeof p === 'string') || !Array.isArray(group.weights)) {
      throw new DataFileError(modelJsonFile, 'has a weightsManifest entry without a list of paths and weights.')
    }
    // Every declared shape is checked before a weight file is read.
    for (const spec of group.weights) {
      if (!isShape(spec?.shape)) throw new DataFileError(modelJsonFile, `weight '${String(spec?.name)}' has an impossible shape.`)
    }
    const buffers = group.paths.map((p) => {
      // Weight files live next to model.json: a manifest must not make Benchside read files elsewhere.
      const file = resolve(folder, p)
      if (!file.startsWith(resolve(folder) + sep)) throw new DataFileError(modelJsonFile, `names a weight file outside its folder ('${basename(p)}').`)
      return readRegularFile(file)
    })
    const data = Buffer.concat(buffers)
    let offset = 0
    for (const spec of group.weights) {
      if (spec.dtype && spec.dtype !== 'float32')
        throw new DataFileError(modelJsonFile, `weight '${spec.name}' is ${spec.dtype}; only float32 weights are read.`)
      const count = spec.shape.reduce((a, b) => a * b, 1)
      if (offset + count * 4 > data.length) throw new DataFileError(modelJsonFile, `the weight files end before '${spec.name}' (truncated).`)
      weights.set(fileName(spec.name), {
        shape: spec.shape,
        values: new Float32Array(data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + count * 4)),
      })
      offset += count * 4
    }
  }
  const net = new Network(metadata.spec)
  try {
    assignWeights(net, weights, modelJsonFile)
  } catch (error) {
    net.dispose()
    throw error
  }
  return { net, metadata }
}

export function exportWeightsNpz(net: Network, file: string): void {
  const arrays = Object.fromEntries(namedWeights(net).map(({ name, tensor }) => [name, { shape: tensor.shape, data: tensor.dataSync() as Float32Array }]))
  writeFileSync(file, encodeNpz(arrays))
}

export function importWeightsNpz(net: Network, file: string): void {
  const arrays = parseNpz(readRegularFile(file), file)
  const weights = new Map<string, { shape: number[]; values: Float32Array }>()
  for (const [name, array] of Object.entries(arrays)) {
    if (!(array.data instanceof Float32Array)) throw new DataFileError(file, `weight '${name}' is ${array.dtype}; weights must be float32.`)
    weights.set(name, { shape: array.shape, values: array.data })
  }
  assignWeights(net, weights, file)
}

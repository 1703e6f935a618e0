import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/engine/backend.ts'
import { DataFileError } from '../../../src-main/engine/data/errors.ts'
import {
  assignWeights,
  exportLayersModel,
  exportWeightsNpz,
  importLayersModel,
  importWeightsNpz,
  type ModelMetadata,
} from '../../../src-main/engine/model-files.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { lenet5 } from '../../../src-main/engine/zoo.ts'
import { tempHome } from '../../helpers/temp-home.ts'
import { failure } from '../../helpers/data-file-error.ts'

let home: ReturnType<typeof tempHome>
beforeAll(async () => {
  await initBackend('cpu')
})
beforeEach(() => (home = tempHome()))
afterEach(() => home.remove())

const spec = lenet5(true)
const metadata: ModelMetadata = { spec, classNames: 'abcdefghij'.split(''), normalization: { scale: 1 / 255, mean: 0.3, std: 0.35 }, sampleShape: [28, 28, 1] }
const x = () => tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 11)

/** A network whose every weight, batch-norm statistics included, is random, so a lost weight changes the output. */
function randomNetwork(seed: number): Network {
  const net = new Network(spec, seed)
  const random = seededRandom(seed)
  const weights = new Map(
    net.model.weights.map((w) => {
      const name = `${w.originalName.split('/')[0]!.replace('__', '.')}/${w.originalName.split('/')[1]}`
      const size = w.shape.reduce((a, b) => a! * b!, 1)!
      const positive = name.endsWith('moving_variance')
      return [name, { shape: w.shape as number[], values: Float32Array.from({ length: size }, () => (positive ? 0.5 + random() : random() - 0.5)) }]
    }),
  )
  assignWeights(net, weights, 'random')
  return net
}

function predict(net: Network): Float32Array {
  return tf.tidy(() => net.forward(x()).dataSync() as Float32Array)
}

async function rejection(promise: Promise<unknown>): Promise<DataFileError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DataFileError)
    return error as DataFileError
  }
  throw new Error('expected a DataFileError, but the call resolved')
}

describe('LayersModel folder', () => {
  it('exports and re-imports a network with identical predictions and its metadata', async () => {
    const original = randomNetwork(1)
    const files = await exportLayersModel(original, metadata, join(home.dir, 'model'))
    expect(files.map((f) => f.slice(home.dir.length))).toEqual(['/model/model.json', '/model/weights.bin'])
    const { net, metadata: read } = await importLayersModel(join(home.dir, 'model', 'model.json'))
    expect(read).toEqual(metadata)
    expect(predict(net)).toEqual(predict(original))
    // Sanity: a differently initialised network predicts differently, so equality above is not an accident.
    const other = randomNetwork(2)
    expect(predict(other)).not.toEqual(predict(original))
    for (const n of [original, net, other]) n.dispose()
  })

  it('needs a fallback for a model.json without Benchside metadata, and uses it', async () => {
    const original = randomNetwork(3)
    await exportLayersModel(original, metadata, join(home.dir, 'm'))
    const file = join(home.dir, 'm', 'model.json')
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    delete json.userDefinedMetadata
    writeFileSync(file, JSON.stringify(json))
    const error = await rejection(importLayersModel(file))
    expect(error.message).toBe(`${file}: was not saved by Benchside: choose the architecture it was trained with.`)
    const { net } = await importLayersModel(file, metadata)
    expect(predict(net)).toEqual(predict(original))
    original.dispose()
    net.dispose()
  })

  it('names the weights when the fallback architecture does not fit, and a truncated weights file', async () => {
    const original = randomNetwork(4)
    await exportLayersModel(original, metadata, join(home.dir, 'm'))
    const file = join(home.dir, 'm', 'model.json')
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    delete json.userDefinedMetadata
    writeFileSync(file, JSON.stringify(json))
    const wrong = await rejection(importLayersModel(file, { ...metadata, spec: lenet5(false) }))
    expect(wrong.message).toMatch(/does not fit the architecture lenet5: 'conv1\/bias' is missing/)
    expect(wrong.message).toMatch(/'conv1\.bn\/gamma' is not part of lenet5/)
    const bin = join(home.dir, 'm', 'weights.bin')
    writeFileSync(bin, readFileSync(bin).subarray(0, 1000))
    expect((await rejection(importLayersModel(file, metadata))).message).toMatch(/the weight files end before '.+' \(truncated\)/)
    writeFileSync(file, '{ not json')
    expect((await rejection(importLayersModel(file))).message).toMatch(/is not a readable model\.json/)
    original.dispose()
  })

  it('refuses an impossible weight shape in the manifest, and a weights file that is a FIFO, before reading weights', async () => {
    const original = randomNetwork(6)
    await exportLayersModel(original, metadata, join(home.dir, 'm'))
    original.dispose()
    const file = join(home.dir, 'm', 'model.json')
    const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: { weights: { name: string; shape: number[] }[] }[] }
    const shape = json.weightsManifest[0]!.weights[0]!.shape
    json.weightsManifest[0]!.weights[0]!.shape = [-1, 16]
    writeFileSync(file, JSON.stringify(json))
    expect((await rejection(importLayersModel(file))).message).toBe(`${file}: weight '${json.weightsManifest[0]!.weights[0]!.name}' has an impossible shape.`)
    json.weightsManifest[0]!.weights[0]!.shape = shape
    writeFileSync(file, JSON.stringify(json))
    const bin = join(home.dir, 'm', 'weights.bin')
    rmSync(bin)
    execFileSync('mkfifo', [bin])
    expect((await rejection(importLayersModel(file))).message).toBe(`${bin}: is a FIFO (named pipe), not a regular file; only regular files are read.`)
  })
})

describe('weights NPZ', () => {
  it('exports and re-imports with identical predictions', () => {
    const original = randomNetwork(5)
    const file = join(home.dir, 'weights.npz')
    exportWeightsNpz(original, file)
    const net = new Network(spec, 77)
    expect(predict(net)).not.toEqual(predict(original))
    importWeightsNpz(net, file)
    expect(predict(net)).toEqual(predict(original))
    original.dispose()
    net.dispose()
  })

  it('names mismatched weights and changes nothing when the file does not fit', () => {
    const original = randomNetwork(6)
    const file = join(home.dir, 'weights.npz')
    exportWeightsNpz(original, file)
    const twelve = new Network(lenet5(true, [28, 28, 1], 12))
    const before = tf.tidy(() => twelve.forward(x()).dataSync())
    const shape = failure(() => importWeightsNpz(twelve, file))
    expect(shape.message).toBe(
      `${file}: does not fit the architecture lenet5-bn: 'logits/kernel' is 84×10, the architecture needs 84×12; 'logits/bias' is 10, the architecture needs 12.`,
    )
    expect(tf.tidy(() => twelve.forward(x()).dataSync())).toEqual(before)
    const plain = new Network(lenet5(false))
    const architecture = failure(() => importWeightsNpz(plain, file))
    expect(architecture.message).toMatch(/does not fit the architecture lenet5: 'conv1\/bias' is missing; .*\(and \d+ more\)\.$/)
    for (const n of [original, twelve, plain]) n.dispose()
  })
})

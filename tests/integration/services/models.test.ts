// Datasets and models through the API: imports are jobs that validate before anything is kept, exports re-import exactly.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobProgress, RunSummary } from '../../../src-main/contract/index.ts'
import { jobResult } from '../../../src-main/cli/jobs.ts'
import { createCore, type Core } from '../../../src-main/core.ts'
import { encodeNpz } from '../../../src-main/engine/data/npy.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'

/** A tiny 8×8 two-class dataset: class 1 has a bright left half. */
function tinyDataset(count: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(count * 64)
  const y = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    y[i] = i % 2
    for (let p = 0; p < 64; p++) x[i * 64 + p] = (y[i] === 1 && p % 8 < 4 ? 1 : 0) + 0.1 * Math.sin(i * 7 + p)
  }
  return { x, y }
}

describe('datasets and models', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  let files: string
  const ended = new Map<string, JobProgress>()
  const finish = (uuid: string) => waitFor(() => ended.get(uuid), 120_000, `job ${uuid}`)

  beforeAll(() => {
    home = tempHome()
    files = join(home.dir, 'user-files')
    mkdirSync(files)
    core = createCore({ dataDir: join(home.dir, 'data'), host: 'cli', launch: nodeJobLauncher })
    core.events.on(({ event, payload }) => {
      const p = payload as JobProgress
      if (event === 'jobProgress' && ['finished', 'failed', 'killed'].includes(p.state)) ended.set(p.runUuid, p)
    })
  })
  afterAll(() => {
    core.close()
    home.remove()
  })

  const importedFolders = () => (existsSync(join(core.store.dataDir, 'datasets')) ? readdirSync(join(core.store.dataDir, 'datasets')) : [])
  /** An import's run once its job process has exited (its error says why it failed). */
  const settled = async (started: Promise<RunSummary>) => {
    const run = await started
    await finish(run.uuid)
    await waitFor(() => !core.jobs.list().some((job) => job.runUuid === run.uuid), 15_000, 'the import process to exit')
    return core.api.getRun({ run: run.uuid })
  }
  const importedDataset = async (started: Promise<RunSummary>) => {
    const run = await settled(started)
    expect(run.status).toBe('FINISHED')
    const { id } = await jobResult(core.api, run.uuid, 'dataset-import')
    return (await core.api.listDatasets({})).find((d) => d.id === id)!
  }
  const importedModel = async (started: Promise<RunSummary>) => {
    const run = await settled(started)
    expect(run).toMatchObject({ status: 'FINISHED', kind: 'model-import' })
    return run.uuid
  }

  it('offers the built-in datasets with their shapes and class names', async () => {
    const list = await core.api.listDatasets({})
    const byId = Object.fromEntries(list.map((d) => [d.id, d]))
    expect(byId['fashion-mnist-subset']).toMatchObject({ origin: 'embedded', sampleShape: [28, 28, 1], counts: { train: 10_000, test: 2_000 } })
    expect(byId['fashion-mnist-subset']!.classNames[9]).toBe('Ankle boot')
    expect(byId.keywords).toMatchObject({ origin: 'embedded', sampleShape: [49, 10, 1] })
    expect(byId.keywords!.classNames).toContain('silence')
    const detail = await core.api.getDataset({ id: 'fashion-mnist-subset', samplesPerClass: 2 })
    expect(detail.classCounts.train).toEqual(new Array(10).fill(1000))
    expect(detail.samples).toHaveLength(20)
    expect(detail.samples[0]!.pixels).toHaveLength(28 * 28)
  })

  it('refuses a malformed dataset with a sentence naming the file, keeping nothing', async () => {
    const bad = join(files, 'mismatch.npz')
    const { x, y } = tinyDataset(20)
    writeFileSync(
      bad,
      encodeNpz({
        x_train: { shape: [20, 8, 8], data: x },
        y_train: { shape: [19], data: y.slice(0, 19) },
        x_test: { shape: [20, 8, 8], data: x },
        y_test: { shape: [20], data: y },
      }),
    )
    expect(await settled(core.api.importDataset({ path: bad }))).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/mismatch\.npz: 'x_train' has 20 samples but 'y_train' has 19 labels/) as unknown,
    })
    writeFileSync(join(files, 'garbage.npz'), 'not a zip')
    expect((await settled(core.api.importDataset({ path: join(files, 'garbage.npz') }))).error).toMatch(/garbage\.npz: this is not a readable \.npz/)
    await expect(core.api.importDataset({ path: join(files, 'missing.npz') })).rejects.toThrow(/There is no file or folder/)
    expect(core.store.datasets.list()).toEqual([])
    expect(importedFolders()).toEqual([])
  })

  it('imports an NPZ dataset, trains on it, exports the model in both formats and re-imports it with the same accuracy', async () => {
    const file = join(files, 'tiny.npz')
    const train = tinyDataset(200)
    const test = tinyDataset(60)
    writeFileSync(
      file,
      encodeNpz({
        x_train: { shape: [200, 8, 8], data: train.x },
        y_train: { shape: [200], data: train.y },
        x_test: { shape: [60, 8, 8], data: test.x },
        y_test: { shape: [60], data: test.y },
      }),
    )
    const dataset = await importedDataset(core.api.importDataset({ path: file, name: 'tiny' }))
    expect(dataset).toMatchObject({ origin: 'imported', format: 'npz', sampleShape: [8, 8, 1], counts: { train: 200, test: 60 } })
    expect(importedFolders()).toEqual([dataset.id])

    const run = await core.api.startJob({ kind: 'train', params: { dataset: dataset.id, architecture: 'mlp-tfc', epochs: 3, validationFraction: 0 } })
    expect((await finish(run.uuid)).state).toBe('finished')
    const [model] = await core.api.listModels({})
    expect(model).toMatchObject({ id: run.uuid, architecture: 'mlp-tfc', dataset: dataset.id, source: 'trained' })
    expect(model!.testAccuracy).toBeGreaterThan(0.9)

    const layersDir = join(files, 'exported')
    const npzFile = join(files, 'weights.npz')
    expect((await core.api.exportModel({ model: run.uuid, format: 'layers', path: layersDir })).files.map((f) => f.slice(layersDir.length + 1))).toEqual([
      'model.json',
      'weights.bin',
    ])
    await core.api.exportModel({ model: run.uuid, format: 'npz', path: npzFile })
    // An export never replaces files by accident.
    await expect(core.api.exportModel({ model: run.uuid, format: 'npz', path: npzFile })).rejects.toThrow(/weights\.npz exist\(s\) already there.*--force/)
    await expect(core.api.exportModel({ model: run.uuid, format: 'layers', path: layersDir })).rejects.toThrow(
      /model\.json and weights\.bin exist\(s\) already/,
    )
    expect((await core.api.exportModel({ model: run.uuid, format: 'npz', path: npzFile, overwrite: true })).files).toEqual([npzFile])

    const fromLayers = await importedModel(core.api.importModel({ path: join(layersDir, 'model.json'), dataset: dataset.id }))
    const fromNpz = await importedModel(core.api.importModel({ path: npzFile, architecture: 'mlp-tfc', dataset: dataset.id }))
    expect((await core.api.listModels({})).filter((m) => m.source === 'imported').map((m) => m.id)).toEqual([fromNpz, fromLayers])
    const accuracy = async (id: string) => {
      const evaluation = await core.api.startJob({ kind: 'evaluate', params: { model: id, dataset: dataset.id, split: 'test' } })
      expect((await finish(evaluation.uuid)).state).toBe('finished')
      return (await core.api.getRun({ run: evaluation.uuid })).metrics.find((m) => m.key === 'accuracy')!.value
    }
    const original = await accuracy(run.uuid)
    expect(original).toBeCloseTo(model!.testAccuracy!, 6)
    expect(await accuracy(fromLayers)).toBe(original)
    expect(await accuracy(fromNpz)).toBe(original)
  })

  it('takes only absolute paths, and never shows what a file that is not a model holds', async () => {
    await expect(core.api.importModel({ path: 'relative/model.json' })).rejects.toThrow(/Give the full path of a model\.json or an \.npz weights file/)
    await expect(core.api.exportModel({ model: 'x', format: 'npz', path: 'out.npz' })).rejects.toThrow(/not a relative one/)
    await expect(core.api.importDataset({ path: './data' })).rejects.toThrow(/not a relative one/)
    const secret = join(files, 'secret.json')
    writeFileSync(secret, 'root:x:0:0:the-secret-text')
    const refused = await settled(core.api.importModel({ path: secret }))
    expect(refused.status).toBe('FAILED')
    expect(refused.error).toMatch(/secret\.json: is not a readable model\.json \(not JSON\)/)
    expect(refused.error).not.toMatch(/root|the-secret-text/)
    // A manifest that points outside its folder is refused before anything is read there.
    const escaping = join(files, 'escaping')
    mkdirSync(escaping, { recursive: true })
    writeFileSync(join(escaping, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../secret.json'], weights: [] }] }))
    expect(
      (await settled(core.api.importModel({ path: join(escaping, 'model.json'), architecture: 'mlp-tfc', dataset: 'fashion-mnist-subset' }))).error,
    ).toMatch(/names a weight file outside its folder \('secret\.json'\)/)
  })

  it('refuses weights that do not fit the architecture: a failed run, never a model', async () => {
    const runsBefore = (await core.api.listRuns({})).length
    const modelsBefore = await core.api.listModels({})
    const npzFile = join(files, 'weights.npz')
    // What can be told without reading the file is refused at once, creating no run.
    await expect(core.api.importModel({ path: npzFile })).rejects.toThrow(/need --architecture and --dataset/)
    await expect(core.api.importModel({ path: npzFile, architecture: 'no-such-net', dataset: 'fashion-mnist-subset' })).rejects.toThrow(
      /Unknown architecture 'no-such-net'/,
    )
    expect((await core.api.listRuns({})).length).toBe(runsBefore)
    const misfit = await settled(core.api.importModel({ path: npzFile, architecture: 'mlp-sfc', dataset: 'fashion-mnist-subset' }))
    expect(misfit).toMatchObject({ kind: 'model-import', status: 'FAILED' })
    expect(misfit.error).toMatch(/does not fit the architecture mlp-sfc: 'fc1\/kernel' is 64×64, the architecture needs 784×256/)
    expect(misfit.artifacts).toEqual([])
    expect(await core.api.listModels({})).toEqual(modelsBefore)
  })
})

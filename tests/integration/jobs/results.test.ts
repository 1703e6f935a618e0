// Job results through the contract: typed results stored and read back, results that break the contract and writes
// the store refuses fail the job (never the host), runs of older Benchside read through the same getters, and model
// ids typed short are stored as full uuids.
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../../../src-main/core.ts'
import { layersModelFiles } from '../../../src-main/engine/model-files.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { architecture } from '../../../src-main/engine/zoo.ts'
import type { FromJob, JobProcess } from '../../../src-main/jobs/protocol.ts'
import { migrations } from '../../../src-main/store/migrations.ts'
import { Store } from '../../../src-main/store/store.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'

const scriptedJob = fileURLToPath(new URL('../../fixtures/scripted-job.mjs', import.meta.url))

/** A launcher whose processes report exactly `script`. */
function scriptedLauncher(script: FromJob[]): () => JobProcess {
  return () => {
    const child = fork(scriptedJob, [], { env: { ...process.env, BENCHSIDE_SCRIPT: JSON.stringify(script) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    return {
      get pid() {
        return child.pid
      },
      send: (message) => void child.send(message),
      onMessage: (listener) => void child.on('message', (message) => listener(message as FromJob)),
      onExit: (listener) => void child.on('exit', (code, signal) => listener(code, signal)),
      kill: (signal = 'SIGTERM') => void child.kill(signal),
    }
  }
}

/** The files of an untrained mlp-tfc for the shipped Fashion-MNIST subset. */
async function untrainedModelFiles(): Promise<{ 'model.json': string; 'weights.bin': Uint8Array }> {
  const spec = architecture('mlp-tfc').build([28, 28, 1], 10)
  const net = new Network(spec, 3)
  const files = await layersModelFiles(net, {
    spec,
    classNames: [...'0123456789'],
    normalization: { scale: 1 / 255, mean: 0, std: 1 },
    sampleShape: [28, 28, 1],
  })
  net.dispose()
  return files
}

/** That model imported through the model-import job: its run is the model. */
async function importedModel(harness: JobHarness, folder: string): Promise<string> {
  mkdirSync(folder, { recursive: true })
  for (const [name, content] of Object.entries(await untrainedModelFiles())) writeFileSync(join(folder, name), content)
  const run = await harness.core.api.importModel({ path: join(folder, 'model.json'), dataset: 'fashion-mnist-subset' })
  expect((await harness.finish(run.uuid)).state).toBe('finished')
  return run.uuid
}

/** That model as an older Benchside imported it: a FINISHED model-import run written in place, with no job. */
async function oldImportedModel(core: Core): Promise<string> {
  const run = core.store.runs.create({ name: 'imported mlp-tfc', kind: 'model-import', status: 'FINISHED' })
  core.store.runs.logParam(run.uuid, 'architecture', 'mlp-tfc')
  core.store.runs.logParam(run.uuid, 'dataset', 'fashion-mnist-subset')
  for (const [name, content] of Object.entries(await untrainedModelFiles())) core.store.runs.writeArtifact(run.uuid, `model/${name}`, content)
  return run.uuid
}

describe('job results', () => {
  let harness: JobHarness | null = null
  let home: ReturnType<typeof tempHome> | null = null
  let core: Core | null = null
  afterEach(() => {
    harness?.close()
    core?.close()
    home?.remove()
    harness = core = home = null
  })

  function scriptedCore(script: FromJob[]): Core {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: scriptedLauncher(script) })
    return core
  }

  it('stores the typed result a job reports, and getRunResult returns it by kind', async () => {
    harness = jobHarness()
    const run = await harness.core.api.startJob({ kind: 'selftest', params: { seconds: 0.2, metricsPerSecond: 20 } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const answer = await harness.core.api.getRunResult({ run: run.uuid.slice(0, 8) })
    expect(answer).toEqual({ kind: 'selftest', run: run.uuid, status: 'FINISHED', result: { steps: 4, resumedAt: null, finalLoss: expect.any(Number) } })
  })

  it('fails a job whose result breaks its contract, names the field, and the host goes on serving', async () => {
    const c = scriptedCore([{ type: 'result', value: { steps: 'many', resumedAt: null, finalLoss: 0 } }])
    const run = await c.api.startJob({ kind: 'selftest', params: {} })
    const failed = await waitFor(
      async () => {
        const r = await c.api.getRun({ run: run.uuid })
        return r.status === 'FAILED' ? r : null
      },
      10_000,
      'the failure',
    )
    expect(failed.error).toMatch(/selftest job reported a result that does not match its contract at 'steps'/)
    expect((await c.api.getRunResult({ run: run.uuid })).result).toBeNull()
    expect((await c.api.appInfo({})).host).toBe('cli')
  })

  it('fails a job whose report the store refuses (a param written twice with two values), and the host lives', async () => {
    const c = scriptedCore([
      { type: 'param', key: 'backend', value: 'wasm' },
      { type: 'param', key: 'backend', value: 'cpu' },
    ])
    const run = await c.api.startJob({ kind: 'selftest', params: {} })
    const failed = await waitFor(
      async () => {
        const r = await c.api.getRun({ run: run.uuid })
        return r.status === 'FAILED' ? r : null
      },
      10_000,
      'the failure',
    )
    expect(failed.error).toMatch(/could not store what the job reported: Param 'backend' .* is already 'wasm'/)
    expect((await c.api.listRuns({})).map((r) => r.uuid)).toContain(run.uuid)
  })

  it('reads the results of runs an older Benchside wrote in files of their own', async () => {
    const c = scriptedCore([])
    const model = await oldImportedModel(c)
    const evaluation = c.store.runs.create({ name: 'old evaluation', kind: 'evaluate', status: 'RUNNING' })
    c.store.runs.logParam(evaluation.uuid, 'model', model)
    c.store.runs.logParam(evaluation.uuid, 'split', 'test')
    c.store.runs.logMetrics(evaluation.uuid, [
      { key: 'accuracy', value: 0.5, step: 0, time: 1 },
      { key: 'loss', value: 1.2, step: 0, time: 1 },
    ])
    c.store.runs.writeArtifact(
      evaluation.uuid,
      'confusion.json',
      JSON.stringify({
        classNames: ['a', 'b'],
        confusion: [
          [3, 1],
          [1, 3],
        ],
      }),
    )
    c.store.runs.finish(evaluation.uuid, 'FINISHED')

    const read = await c.api.getModelEvaluation({ model })
    expect(read).toMatchObject({
      run: evaluation.uuid,
      source: 'evaluation',
      split: 'test',
      accuracy: 0.5,
      confusion: {
        classNames: ['a', 'b'],
        matrix: [
          [3, 1],
          [1, 3],
        ],
      },
    })
    expect(read!.perClass).toEqual([
      { className: 'a', precision: 0.75, recall: 0.75 },
      { className: 'b', precision: 0.75, recall: 0.75 },
    ])

    const broken = c.store.runs.create({ name: 'old roofline', kind: 'roofline', status: 'FINISHED' })
    c.store.runs.writeArtifact(broken.uuid, 'roofline.json', JSON.stringify({ board: { id: 'local' } }))
    await expect(c.api.getRunResult({ run: broken.uuid })).rejects.toThrow(/cannot be read .*another version of Benchside/)
  })

  it('stores a model id typed short as the full uuid, so a later run sharing the prefix changes nothing', async () => {
    harness = jobHarness()
    const model = await importedModel(harness, join(harness.dataDir, 'model-files'))
    const run = await harness.core.api.startJob({
      kind: 'sweep',
      params: {
        model: model.slice(0, 6).toUpperCase(),
        scope: { kind: 'global' },
        strategy: 'grid',
        limit: 100,
        repeats: 1,
        workers: 1,
        grid: { from: 0.1, to: 10, count: 3 },
      },
    })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    expect((await harness.core.api.getRun({ run: run.uuid })).params['model']).toBe(model)
    expect(harness.core.store.runs.jobSpec(run.uuid)).toMatchObject({ params: { model } })
    // Another run whose id starts with the same six characters.
    harness.core.store.db
      .prepare(`INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at) VALUES (?, 1, 'twin', 'selftest', 'FINISHED', ?)`)
      .run(`${model.slice(0, 6)}00-0000-4000-8000-000000000000`, Date.now())
    const sweep = await harness.core.api.getSweep({ run: run.uuid })
    expect(sweep.scopes.map((s) => s.scope)).toEqual(['global'])
    expect((await harness.core.api.getModelEvaluation({ model })) ?? 'none').toBe('none')
  }, 180_000)

  it('migrates short model ids stored by older versions to the run that had that prefix when they were written', () => {
    home = tempHome()
    const file = join(home.dir, 'benchside.sqlite')
    const db = new Database(file)
    migrations.slice(0, 6).forEach((sql) => db.exec(sql))
    db.pragma('user_version = 6')
    db.prepare(`INSERT INTO experiments (id, name, created_at) VALUES (1, 'Default', 0)`).run()
    const insertRun = db.prepare(`INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at, job_spec) VALUES (?, 1, ?, ?, 'FINISHED', ?, ?)`)
    const model = 'abcdef12-0000-4000-8000-000000000001'
    insertRun.run(model, 'model', 'train', 100, null)
    insertRun.run('11111111-0000-4000-8000-000000000002', 'sweep', 'sweep', 200, JSON.stringify({ kind: 'sweep', params: { model: 'ABCDEF' } }))
    db.prepare(`INSERT INTO params (run_uuid, key, value) VALUES (?, 'model', 'ABCDEF')`).run('11111111-0000-4000-8000-000000000002')
    // Created after the sweep: it cannot be what the sweep meant.
    insertRun.run('abcdef99-0000-4000-8000-000000000003', 'later', 'train', 300, null)
    // Ambiguous at the time it was written: left as it is.
    insertRun.run('22222222-0000-4000-8000-000000000004', 'eval', 'evaluate', 400, null)
    db.prepare(`INSERT INTO params (run_uuid, key, value) VALUES (?, 'model', 'abcdef')`).run('22222222-0000-4000-8000-000000000004')
    db.close()

    const store = new Store({ dataDir: home.dir })
    try {
      expect(store.runs.params('11111111-0000-4000-8000-000000000002')['model']).toBe(model)
      expect(store.runs.jobSpec('11111111-0000-4000-8000-000000000002')).toEqual({ kind: 'sweep', params: { model } })
      expect(store.runs.params('22222222-0000-4000-8000-000000000004')['model']).toBe('abcdef')
    } finally {
      store.close()
    }
  })
})

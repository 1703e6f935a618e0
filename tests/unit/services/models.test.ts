// Models through the router on a real store: rename and delete (with restore), and what each accuracy figure is —
// a HIL fine-tuned model's board accuracy on N samples is never listed as a test-split accuracy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { tempHome } from '../../helpers/temp-home.ts'

describe('models', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  let trained: string
  let finetuned: string

  /** A finished run of `kind` holding a model file, with params and a test_accuracy metric. */
  function modelRun(kind: string, name: string, params: Record<string, string>, accuracy: number): string {
    const uuid = core.store.runs.create({ name, kind, status: 'FINISHED' }).uuid
    for (const [key, value] of Object.entries(params)) core.store.runs.logParam(uuid, key, value)
    core.store.runs.logMetrics(uuid, [{ key: 'test_accuracy', value: accuracy, step: 0, time: Date.now() }])
    core.store.runs.writeArtifact(uuid, 'model/model.json', '{}')
    return uuid
  }

  beforeEach(() => {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
    trained = modelRun('train', 'clean', { architecture: 'mlp-tfc', dataset: 'fashion-mnist-subset', backend: 'wasm' }, 0.82)
    finetuned = modelRun(
      'hil-finetune',
      'tuned on the board',
      { model: trained, architecture: 'mlp-tfc', dataset: 'fashion-mnist-subset', board: 'demo', device: 'demo-0001', limit: '300' },
      0.78,
    )
  })
  afterEach(() => {
    core.close()
    home.remove()
  })

  it('lists a test-split accuracy as such, and a board accuracy with its sample count apart', async () => {
    const list = await core.api.listModels({})
    const clean = list.find((m) => m.id === trained)!
    expect(clean).toMatchObject({ kind: 'train', testAccuracy: 0.82, boardAccuracy: null, boardSamples: null, backend: 'wasm', device: null })
    const tuned = list.find((m) => m.id === finetuned)!
    expect(tuned).toMatchObject({ kind: 'hil-finetune', testAccuracy: null, boardAccuracy: 0.78, boardSamples: 300, backend: null, device: 'demo-0001' })
  })

  it('renames a model, and refuses runs that are not models', async () => {
    const renamed = await core.api.renameModel({ model: trained.slice(0, 8), name: '  baseline  ' })
    expect(renamed).toMatchObject({ id: trained, name: 'baseline' })
    expect(core.store.runs.summary(trained).name).toBe('baseline')
    const selftest = core.store.runs.create({ name: 'not a model', kind: 'selftest', status: 'FINISHED' }).uuid
    expect(await core.router.handle('renameModel', { model: selftest, name: 'x' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
  })

  it('deletes a model (its run, softly) and restoreRun brings it back', async () => {
    await core.api.deleteModel({ model: trained })
    expect((await core.api.listModels({})).map((m) => m.id)).toEqual([finetuned])
    expect(core.store.runs.summary(trained).deleted).toBe(true)
    await core.api.restoreRun({ run: trained })
    expect((await core.api.listModels({})).map((m) => m.id).sort()).toEqual([trained, finetuned].sort())
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../../src-main/core.ts'
import { nodeJobLauncher } from '../../src-main/jobs/node-launcher.ts'
import { BenchsideError } from '../../src-main/contract/index.ts'
import { tempHome } from '../helpers/temp-home.ts'

describe('router', () => {
  let home: ReturnType<typeof tempHome>
  let core: Core
  beforeEach(() => {
    home = tempHome()
    core = createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
  })
  afterEach(() => {
    core.close()
    home.remove()
  })

  it('refuses a wrongly typed argument with an error naming the field', async () => {
    const reply = await core.router.handle('listRuns', { limit: 'ten' })
    expect(reply.ok).toBe(false)
    if (reply.ok) return
    expect(reply.error.code).toBe('INVALID_ARGS')
    expect(reply.error.field).toBe('limit')
    expect(reply.error.message).toMatch(/'limit'.*number/)
  })

  it('names nested fields of job params', async () => {
    const reply = await core.router.handle('startJob', { kind: 'selftest', params: { seconds: -1 } })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'params.seconds' } })
    expect(core.store.runs.list()).toEqual([])
  })

  it('refuses an unknown job kind, naming the kind field', async () => {
    const reply = await core.router.handle('startJob', { kind: 'mine-bitcoin', params: {} })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'kind' } })
  })

  it.each([
    ['getDataset', { id: 42 }, 'id'],
    ['importDataset', { path: '' }, 'path'],
    ['describeArchitecture', { architecture: ['lenet5'] }, 'architecture'],
    ['exportModel', { model: 'm', format: 'onnx', path: '/tmp/x' }, 'format'],
    ['importModel', { path: 7 }, 'path'],
    ['renameModel', { model: 'm', name: '   ' }, 'name'],
    ['renameModel', { model: '', name: 'x' }, 'model'],
    ['deleteModel', { model: 42 }, 'model'],
    ['startJob', { kind: 'train', params: { logEverySteps: 0 } }, 'params.logEverySteps'],
    ['addBoard', { id: 'Bad Id!', host: 'pi', username: 'pi' }, 'id'],
    ['addBoard', { id: 'rpi', host: 'pi', username: 'pi', port: 70000 }, 'port'],
    ['testBoard', {}, 'board'],
    ['getRoofline', { board: '' }, 'board'],
    ['measureOperation', { operation: 'fft' }, 'operation'],
    ['getLayerLatency', { board: 'local', model: '' }, 'model'],
    ['removeBoard', { board: '' }, 'board'],
    ['exportLatencyTable', { board: 5 }, 'board'],
    ['readArtifact', { run: 'r', path: 3 }, 'path'],
    ['listRuns', { status: 'DONE' }, 'status'],
    ['tagRun', { run: 'r', tag: 'two words' }, 'tag'],
    ['measureOperation', { operation: 'gemm_f32', args: { m: { nested: 1 } } }, 'args.m'],
    ['importLatencyTable', { csv: '' }, 'csv'],
    ['getSweep', { run: null }, 'run'],
    ['startJob', { kind: 'train', params: { epochs: 0 } }, 'params.epochs'],
    ['startJob', { kind: 'train', params: { noise: { sigma: -1 } } }, 'params.noise.sigma'],
    ['startJob', { kind: 'sweep', params: { model: 'm', noise: { kind: 'pink' } } }, 'params.noise.kind'],
    ['startJob', { kind: 'sweep', params: { model: 'm', scope: { kind: 'set', name: 's', scales: { fc1: -2 } } } }, 'params.scope.scales.fc1'],
    ['startJob', { kind: 'roofline', params: { sizes: [] } }, 'params.sizes'],
    ['startJob', { kind: 'layer-latency', params: { model: 'm', policy: [{ keep: 0, bits: 8 }] } }, 'params.policy.0.keep'],
    ['getStudy', { run: 5 }, 'run'],
    ['startJob', { kind: 'robustness-study', params: { qatBits: [1] } }, 'params.qatBits.0'],
    ['startJob', { kind: 'robustness-study', params: { evaluation: { count: 1 } } }, 'params.evaluation.count'],
    ['startJob', { kind: 'train', params: { analog: { integration: 'maybe' } } }, 'params.analog.integration'],
    ['startJob', { kind: 'train', params: { analog: { fill: 0 } } }, 'params.analog.fill'],
    ['connectAnalogBoard', { port: '' }, 'port'],
    ['disconnectAnalogBoard', {}, 'port'],
    ['getAnalogCalibration', { device: '' }, 'device'],
    ['getHil', { run: [] }, 'run'],
    ['startJob', { kind: 'analog-calibrate', params: { repeats: 0 } }, 'params.repeats'],
    ['startJob', { kind: 'hil-evaluate', params: { model: 'm', limit: 1 } }, 'params.limit'],
    ['startJob', { kind: 'hil-finetune', params: { model: 'm', epochs: 0 } }, 'params.epochs'],
    ['queryRuns', { limit: 0 }, 'limit'],
    ['queryRuns', { sort: { by: { kind: 'tag', key: 'x' } } }, 'sort.by'],
    ['queryRuns', { columns: [{ kind: 'metric', key: '' }] }, 'columns.0.key'],
    ['queryRuns', { where: 'params.lr >' }, 'where'],
    ['queryRuns', { where: "params.x = '1'' OR 1=1 --" }, 'where'],
    ['runColumns', { includeDeleted: 'yes' }, 'includeDeleted'],
    ['compareRuns', { runs: ['only-one'] }, 'runs'],
    ['compareRuns', { runs: Array.from({ length: 21 }, (_, i) => `r${i}`) }, 'runs'],
    ['unlockBoard', { board: 'rpi', passphrase: '' }, 'passphrase'],
    ['forgetHostKey', {}, 'board'],
    ['importDataset', { path: 'relative/folder' }, 'path'],
    ['exportModel', { model: 'm', format: 'npz', path: 'out.npz' }, 'path'],
    ['startJob', { kind: 'train', params: { noise: { sigma: 1e300 } } }, 'params.noise.sigma'],
    ['compressionLayers', { modelUuid: '' }, 'modelUuid'],
    ['evaluatePolicy', { modelUuid: 'm', policy: { architecture: 'x', layers: [] } }, 'policy.layers'],
    [
      'evaluatePolicy',
      { modelUuid: 'm', policy: { architecture: 'x', layers: [{ layer: 'fc1', keep: 1.5, weightBits: 8, activationBits: 8 }] } },
      'policy.layers.0.keep',
    ],
    [
      'measurePolicy',
      { modelUuid: 'm', policy: { architecture: 'x', layers: [{ layer: 'fc1', keep: 1, weightBits: 9, activationBits: 8 }] } },
      'policy.layers.0.weightBits',
    ],
    ['measurePolicy', { modelUuid: 'm', board: '' }, 'board'],
    ['startJob', { kind: 'compression-search', params: { modelUuid: 'm', target: 0 } }, 'params.target'],
    ['startJob', { kind: 'compression-baseline', params: { modelUuid: 'm', kind: 'best' } }, 'params.kind'],
    [
      'startJob',
      {
        kind: 'compression-apply',
        params: { modelUuid: 'm', policy: { architecture: 'x', layers: [{ layer: 'a', keep: 1, weightBits: 4, activationBits: 0 }] } },
      },
      'params.policy.layers.0.activationBits',
    ],
    ['startJob', { kind: 'ensemble-train', params: { model: 'm', heads: 1 } }, 'params.heads'],
    ['startJob', { kind: 'uncertainty-evaluate', params: { ensemble: 'e', noise: { sigmas: [] } } }, 'params.noise.sigmas'],
    ['startJob', { kind: 'active-learning', params: { model: 'm', acquire: 'oracle' } }, 'params.acquire'],
    ['startJob', { kind: 'selftest', params: {}, executor: { kind: 'slurm' } }, 'executor.cluster'],
    ['startJob', { kind: 'selftest', params: {}, executor: { kind: 'kubernetes', cluster: 'x' } }, 'executor.kind'],
    ['addCluster', { name: 'Bad Name', login: { kind: 'local' }, benchsideDir: '/b', workDir: '/w' }, 'name'],
    ['addCluster', { name: 'hpc', login: { kind: 'ssh', host: 'h', username: '' }, benchsideDir: '/b', workDir: '/w' }, 'login.username'],
    ['addCluster', { name: 'hpc', login: { kind: 'local' }, benchsideDir: 'relative', workDir: '/w' }, 'benchsideDir'],
    ['addCluster', { name: 'hpc', login: { kind: 'local' }, benchsideDir: '/b', workDir: '/w', partition: 'a;rm' }, 'partition'],
    ['addCluster', { name: 'hpc', login: { kind: 'local' }, benchsideDir: '/b', workDir: '/w', cpusPerTask: 0 }, 'cpusPerTask'],
    ['testCluster', { name: '' }, 'name'],
    ['removeCluster', {}, 'name'],
    ['getLayerLatency', { board: 'local', model: 'm', policy: [{ keep: 0, bits: 8 }] }, 'policy.0.keep'],
  ])('refuses bad arguments to %s, naming %j', async (method, args, field) => {
    const reply = await core.router.handle(method, args)
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field } })
  })

  it('refuses a σ no lab would use (1e300) before a run exists, naming the field and its bound', async () => {
    const reply = await core.router.handle('startJob', { kind: 'train', params: { noise: { sigma: 1e300 } } })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'params.noise.sigma' } })
    if (!reply.ok) expect(reply.error.message).toMatch(/'params\.noise\.sigma'.*1000/)
    expect(core.store.runs.list()).toEqual([])
  })

  it.each([
    ['train', { noise: { sigma: 1, theta: 1e6 } }, 'params.noise.theta'],
    ['train', { noise: { sigma: 1, rampEpochs: 1e6 } }, 'params.noise.rampEpochs'],
    ['train', { qat: { scale: 1e9 } }, 'params.qat.scale'],
    ['train', { learningRate: 100 }, 'params.learningRate'],
    ['train', { epochs: 1e6 }, 'params.epochs'],
    ['sweep', { model: 'm', grid: { to: 1e300 } }, 'params.grid.to'],
    ['sweep', { model: 'm', scope: { kind: 'set', name: 's', scales: { fc1: 1e9 } } }, 'params.scope.scales.fc1'],
    ['sweep', { model: 'm', limit: 1e12 }, 'params.limit'],
    ['robustness-study', { evaluation: { to: 1e300 } }, 'params.evaluation.to'],
    ['robustness-study', { evaluation: { limit: 1e12 } }, 'params.evaluation.limit'],
    ['selftest', { failAfterSeconds: 1e300 }, 'params.failAfterSeconds'],
  ])('bounds %s params from above: %j is refused at %s', async (kind, params, field) => {
    const reply = await core.router.handle('startJob', { kind, params })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field } })
    expect(core.store.runs.list()).toEqual([])
  })

  it('refuses ids that name nothing with a user error (not an internal one), creating no run', async () => {
    for (const [method, args] of [
      ['getDataset', { id: 'no-such-dataset' }],
      ['getModel', { model: 'no-such-model' }],
      ['testBoard', { board: 'no-such-board' }],
      ['startJob', { kind: 'train', params: { dataset: 'no-such-dataset' } }],
      ['startJob', { kind: 'sweep', params: { model: 'no-such-model' } }],
      ['getSweep', { run: 'no-such-run' }],
      ['getStudy', { run: 'no-such-run' }],
      ['getHil', { run: 'no-such-run' }],
      ['startJob', { kind: 'hil-evaluate', params: { model: 'no-such-model' } }],
      ['startJob', { kind: 'train', params: { analog: { device: 'no-such-board' } } }],
    ] as const) {
      const reply = await core.router.handle(method, args)
      expect(reply.ok, `${method} ${JSON.stringify(args)}`).toBe(false)
      if (!reply.ok) expect(['NOT_FOUND', 'INVALID_ARGS'], `${method}: ${reply.error.message}`).toContain(reply.error.code)
    }
    expect(core.store.runs.list()).toEqual([])
  })

  it('answers a port with no board behind it with a user error, not an internal one', async () => {
    const reply = await core.router.handle('connectAnalogBoard', { port: '/dev/no-such-serial-port' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } })
    if (!reply.ok) expect(reply.error.message).toMatch(/no-such-serial-port/)
  })

  it('refuses an unknown method', async () => {
    const reply = await core.router.handle('dropAllTables', {})
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
  })

  it.each([['__proto__'], ['constructor'], ['toString'], [42], [null]])('refuses %s as a method name', async (name) => {
    const reply = await core.router.handle(name, {})
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
  })

  it('passes valid calls to the service and returns its result', async () => {
    const reply = await core.router.handle('listRuns', {})
    expect(reply).toEqual({ ok: true, result: [] })
  })

  it('turns service errors into error replies, and the typed client into BenchsideError', async () => {
    const reply = await core.router.handle('getRun', { run: 'nope-not-a-run' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    await expect(core.api.getRun({ run: 'nope-not-a-run' })).rejects.toBeInstanceOf(BenchsideError)
  })

  it('refuses text with a lone surrogate anywhere in the arguments, so nothing unremovable is stored', async () => {
    const run = core.store.runs.create({ name: 'a run', kind: 'selftest' })
    const tag = await core.router.handle('tagRun', { run: run.uuid, tag: 'bad\ud800tag' })
    expect(tag).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'tag' } })
    if (!tag.ok) expect(tag.error.message).toMatch(/lone UTF-16 surrogate/)
    const note = await core.router.handle('addNote', { run: run.uuid, text: 'ends badly \udfff' })
    expect(note).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'text' } })
    const nested = await core.router.handle('exportRuns', { runs: [run.uuid, 'x\ud83d'] })
    expect(nested).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', field: 'runs.1' } })
    // A surrogate pair is a real character (an emoji) and is stored as it is.
    expect(await core.router.handle('tagRun', { run: run.uuid, tag: 'ok\ud83d\ude00' })).toMatchObject({ ok: true, result: { tags: ['ok😀'] } })
    expect(core.store.runs.summary(run.uuid).tags).toEqual(['ok😀'])
  })

  it('refuses arguments nested deeper than any method takes, without overflowing the stack', async () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const reply = await core.router.handle('getRun', { run: deep })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } })
    if (!reply.ok) expect(reply.error.message).toMatch(/nested more than 32 levels deep/)
  })
})

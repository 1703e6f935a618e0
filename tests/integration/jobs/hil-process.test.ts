// Hardware-in-the-loop jobs in job processes, on the demo board (the real emulator on a real PTY pair): fine-tuning
// trains in a child while this (the host's) event loop stays responsive; the board RPC answers bad requests with
// errors and never dies of them; a cancel reaches the board call in flight and frees the board for the next session.
import { fork } from 'node:child_process'
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { JobSpec } from '../../../src-main/contract/index.ts'
import type { Core } from '../../../src-main/core.ts'
import { AnalogDeviceRegistry } from '../../../src-main/hardware/analog-devices.ts'
import type { BoardReply } from '../../../src-main/jobs/board-rpc.ts'
import { serveBoards } from '../../../src-main/jobs/board-server.ts'
import { jobKinds } from '../../../src-main/jobs/kinds/index.ts'
import type { FromJob, JobProcess } from '../../../src-main/jobs/protocol.ts'
import { Store } from '../../../src-main/store/store.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'

const ROWS = 128
const COLS = 256

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

const RESOLUTION_MS = 10

/**
 * Watches this process's event loop: how late a 10 ms timer fires (perf_hooks records the whole interval between
 * ticks, so the delay is that minus the resolution; both are reported), and how much CPU the process used between two
 * ticks, which tells the host's own work from a machine too busy to schedule it.
 */
function watchEventLoop(): {
  stop(): { samples: number; intervalP99Ms: number; delayP50Ms: number; delayP99Ms: number; delayMaxMs: number; ownWorkP99Ms: number; ownWorkMaxMs: number }
} {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  delay.enable()
  const ownWork: number[] = []
  let last = { wall: performance.now(), cpu: process.cpuUsage() }
  const timer = setInterval(() => {
    const now = { wall: performance.now(), cpu: process.cpuUsage() }
    const cpuMs = (now.cpu.user - last.cpu.user + now.cpu.system - last.cpu.system) / 1000
    ownWork.push(Math.min(now.wall - last.wall, cpuMs))
    last = now
  }, RESOLUTION_MS)
  return {
    stop() {
      clearInterval(timer)
      delay.disable()
      const ms = (ns: number) => Math.round(ns / 1e4) / 100
      const late = (ns: number) => Math.max(0, ms(ns - RESOLUTION_MS * 1e6))
      return {
        samples: delay.count,
        intervalP99Ms: ms(delay.percentile(99)),
        delayP50Ms: late(delay.percentile(50)),
        delayP99Ms: late(delay.percentile(99)),
        delayMaxMs: late(delay.max),
        ownWorkP99Ms: Math.round(percentile(ownWork, 99) * 100) / 100,
        ownWorkMaxMs: Math.round(Math.max(...ownWork) * 100) / 100,
      }
    },
  }
}

/** A small layer through the board straight from the registry: it answers, so nobody still holds it or wedged its link. */
async function boardAnswers(registry: AnalogDeviceRegistry): Promise<number> {
  return registry.withBoard('demo', async ({ board }) => {
    await board.loadWeights(7, new Int8Array(ROWS * 4).fill(1), ROWS, 4)
    const codes = await board.run(7, new Uint8Array(ROWS * 3).fill(2), ROWS)
    return codes.length
  })
}

describe('HIL jobs run in job processes', () => {
  let harness: JobHarness
  let core: Core
  let model: string

  beforeAll(async () => {
    harness = jobHarness()
    core = harness.core
    const train = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
    expect((await harness.finish(train.uuid, 300_000)).state).toBe('finished')
    model = train.uuid
    // Connected first, as a user would from the devices view: the emulator's start is not part of what is measured.
    await core.api.connectAnalogBoard({ port: 'demo' })
  }, 360_000)
  afterAll(async () => {
    await core.analog.closeAll()
    harness.close()
  })

  it('fine-tunes in a child process while the host event loop stays under 50 ms', async () => {
    expect(jobKinds['hil-finetune'].inline).toBeUndefined()
    const launchedBefore = harness.launched.length
    const loop = watchEventLoop()
    const started = Date.now()
    const run = await core.api.startJob({ kind: 'hil-finetune', params: { model, board: 'demo', epochs: 1, trainLimit: 1024, limit: 200 } })
    const ended = await harness.finish(run.uuid, 600_000)
    const figures = { seconds: (Date.now() - started) / 1000, loadAverage: loadavg()[0], ...loop.stop() }
    console.log(`host event loop during hil-finetune: ${JSON.stringify(figures)}`)
    expect(ended.state, ended.message).toBe('finished')

    // The job got its own process, started by the process launcher.
    expect(harness.launched.length).toBe(launchedBefore + 1)
    const child = harness.launched.at(-1)!
    expect(child.pid).toBeGreaterThan(0)
    expect(child.pid).not.toBe(process.pid)

    const result = await core.api.getHil({ run: run.uuid })
    expect(result.epochs.map((e) => e.epoch)).toEqual([0, 1])
    expect(result.epochs[1]!.loss).toBeGreaterThan(0)
    expect(result.deviceId).toBe('EMU-00000007')

    expect(figures.samples).toBeGreaterThan(100)
    expect(figures.ownWorkP99Ms).toBeLessThan(50)
    expect(figures.delayP99Ms).toBeLessThan(50)
  }, 660_000)

  it('a cancelled HIL job lets go of the board at once, and the board still answers', async () => {
    const run = await core.api.startJob({ kind: 'hil-evaluate', params: { model, board: 'demo', limit: 4000 } })
    await waitFor(() => core.jobs.list().find((j) => j.runUuid === run.uuid && j.phase === 'measuring'), 180_000, 'the job measuring on the board')
    await core.api.cancelJob({ run: run.uuid })
    const cancelled = Date.now()
    expect(await boardAnswers(core.analog)).toBe(3 * 4)
    expect(Date.now() - cancelled).toBeLessThan(3000)
    expect((await harness.finish(run.uuid)).state).toBe('killed')
  }, 240_000)
})

const boardJob = fileURLToPath(new URL('../../fixtures/board-rpc-job.mjs', import.meta.url))

interface Step {
  request: Record<string, unknown>
  wait?: boolean
  delayMs?: number
}

interface RpcJob {
  process: JobProcess
  replies: Map<number, Extract<BoardReply, { type: 'board-reply' }>>
  /** Resolves when the job has sent every step. */
  sent: Promise<void>
  /** Everything else the manager would have seen: board requests must never show up here. */
  passedOn: FromJob[]
  exited: Promise<void>
}

/** A real job process that sends `steps` to a board server over a real store and registry. */
function rpcJob(registry: AnalogDeviceRegistry, store: Store, steps: Step[]): RpcJob {
  const child = fork(boardJob, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  const raw: JobProcess = {
    get pid() {
      return child.pid
    },
    send: (message) => void child.send(message, () => {}),
    onMessage: (listener) => void child.on('message', (message) => listener(message as FromJob)),
    onExit: (listener) => void child.on('exit', (code, signal) => listener(code, signal)),
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  }
  const served = serveBoards(raw, {
    registry,
    latestCalibration: () => null,
    saveCalibration: (deviceId, runUuid, model, quality) => store.analogDevices.addCalibration(deviceId, runUuid, model, quality),
    seen: (info, port) => store.analogDevices.seen(info.deviceId, info.firmware, info, port),
  })
  const replies = new Map<number, Extract<BoardReply, { type: 'board-reply' }>>()
  const passedOn: FromJob[] = []
  let markSent = () => {}
  const sent = new Promise<void>((resolve) => (markSent = resolve))
  served.onMessage((message) => {
    if (message.type === 'result') {
      const reply = message.value as Extract<BoardReply, { type: 'board-reply' }>
      replies.set(reply.call, reply)
    } else if (message.type === 'progress') markSent()
    else passedOn.push(message)
  })
  const exited = new Promise<void>((resolve) => served.onExit(() => resolve()))
  const spec = { kind: 'analog-calibrate', params: { board: 'demo', repeats: 1 } } as JobSpec
  served.send({ type: 'start', runUuid: 'board-rpc-test', spec, artifactDir: '', resume: null, inputs: { steps } })
  return { process: served, replies, sent, passedOn, exited }
}

describe('the board RPC', () => {
  let home: ReturnType<typeof tempHome>
  let store: Store
  let registry: AnalogDeviceRegistry
  let job: RpcJob | null = null

  beforeAll(async () => {
    home = tempHome()
    store = new Store({ dataDir: home.dir })
    registry = new AnalogDeviceRegistry()
    await registry.connect('demo')
  }, 60_000)
  afterEach(async () => {
    job?.process.kill('SIGKILL')
    await job?.exited
    job = null
  })
  afterAll(async () => {
    await registry.closeAll()
    store.close()
    home.remove()
  })

  const call = (n: number, method: unknown, args: unknown, session: unknown = '$session'): Step => ({
    request: { type: 'board-call', call: n, session, method, args },
    wait: true,
  })

  it('answers bad requests with errors, keeps serving, and refuses calls after the session closed', async () => {
    job = rpcJob(registry, store, [
      { request: { type: 'board-open', call: 1, port: 'demo' }, wait: true },
      call(2, 'explode', []),
      call(3, 'close', []),
      call(4, '__proto__', []),
      call(5, 'run', [0, [1, 2, 3], 3, {}]),
      call(6, 'set', ['volume', 3]),
      call(7, 'loadWeights', 'not a list'),
      call(8, 'info', [], 999),
      // A message without a call number cannot be answered; it must not stop the server either.
      { request: { type: 'board-call', session: 1, method: 'info' } },
      { request: { type: 'board-save-calibration', call: 9, session: '$session', model: { columns: -1 }, quality: null }, wait: true },
      call(10, 'info', []),
      call(11, 'set', ['gain', 2]),
      // Well-formed, but the device refuses it: the driver's error comes back as a BoardError payload.
      call(16, 'set', ['gain', 1e6]),
      { request: { type: 'board-close', call: 12, session: '$session' }, wait: true },
      call(13, 'info', []),
      { request: { type: 'board-open', call: 14, port: 42 }, wait: true },
      { request: { type: 'board-open', call: 15, port: 'demo' }, wait: true },
    ])
    await job.sent
    const { replies } = job
    const error = (n: number) => {
      const reply = replies.get(n)!
      expect(reply.ok, `call ${n}`).toBe(false)
      return reply.ok ? null : reply.error
    }
    expect(replies.get(1)).toMatchObject({ ok: true, value: { port: 'demo', info: { deviceId: 'EMU-00000007' }, calibration: null } })
    expect(error(2)).toMatchObject({ code: 'UNKNOWN_METHOD', message: expect.stringContaining("'explode' is not a board method") })
    expect(error(3)).toMatchObject({ code: 'UNKNOWN_METHOD' })
    expect(error(4)).toMatchObject({ code: 'UNKNOWN_METHOD' })
    expect(error(5)).toMatchObject({ code: 'INVALID_ARGS', message: expect.stringContaining('argument 1') })
    expect(error(6)).toMatchObject({ code: 'INVALID_ARGS', message: expect.stringContaining('argument 0') })
    expect(error(7)).toMatchObject({ code: 'INVALID_ARGS' })
    expect(error(8)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('session 999 is not open') })
    expect(error(9)).toMatchObject({ code: 'INVALID_ARGS', message: expect.stringContaining('calibration') })
    // After all that, the same session still works.
    expect(replies.get(10)).toMatchObject({ ok: true, value: { deviceId: 'EMU-00000007' }, board: { state: 'connected' } })
    expect(replies.get(11)).toMatchObject({ ok: true, value: 2 })
    expect(error(16)).toMatchObject({ reason: expect.any(String), message: expect.stringContaining('1000000') })
    expect(replies.get(12)).toMatchObject({ ok: true })
    expect(error(13)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('not open') })
    expect(error(14)).toMatchObject({ code: 'INVALID_ARGS', message: expect.stringContaining('needs a port') })
    // The board was freed by the close: a new session opens.
    expect(replies.get(15)).toMatchObject({ ok: true, value: { info: { deviceId: 'EMU-00000007' } } })
    expect(job.passedOn.filter((m) => m.type.startsWith('board-'))).toEqual([])
    expect(store.analogDevices.list().map((d) => d.deviceId)).toContain('EMU-00000007')
    // Session 15 is still open: killing the job frees the board.
    job.process.kill('SIGKILL')
    expect(await boardAnswers(registry)).toBe(3 * 4)
  }, 60_000)

  it("aborts a board call in flight when the job's signal fires, and keeps the session usable", async () => {
    const vectors = 20_000
    job = rpcJob(registry, store, [
      { request: { type: 'board-open', call: 1, port: 'demo' }, wait: true },
      {
        request: { type: 'board-call', call: 2, session: '$session', method: 'loadWeights', args: [0, new Int8Array(ROWS * COLS).fill(3), ROWS, COLS, {}] },
        wait: true,
      },
      { request: { type: 'board-call', call: 3, session: '$session', method: 'run', args: [0, new Uint8Array(ROWS * vectors).fill(1), ROWS, {}] } },
      { request: { type: 'board-abort', call: 3 }, wait: true, delayMs: 500 },
      call(4, 'info', []),
    ])
    await job.sent
    const run = job.replies.get(3)!
    expect(run.ok).toBe(false)
    if (!run.ok) {
      expect(run.error).toMatchObject({ reason: 'CANCELLED', code: 'CONFLICT' })
      const done = Number(/after (\d+) of 20000 vectors/.exec(run.error.message)?.[1])
      expect(done).toBeLessThan(vectors)
    }
    expect(job.replies.get(4)).toMatchObject({ ok: true, value: { deviceId: 'EMU-00000007' } })
  }, 60_000)

  it('a job killed during a long board call frees the board at once', async () => {
    job = rpcJob(registry, store, [
      { request: { type: 'board-open', call: 1, port: 'demo' }, wait: true },
      {
        request: { type: 'board-call', call: 2, session: '$session', method: 'loadWeights', args: [0, new Int8Array(ROWS * COLS).fill(3), ROWS, COLS, {}] },
        wait: true,
      },
      // About 80 s of vectors at the link's speed: only a cancel ends it early.
      { request: { type: 'board-call', call: 3, session: '$session', method: 'run', args: [0, new Uint8Array(ROWS * 20_000).fill(1), ROWS, {}] } },
    ])
    await job.sent
    await new Promise((resolve) => setTimeout(resolve, 500))
    const killed = Date.now()
    job.process.kill('SIGTERM')
    expect(await boardAnswers(registry)).toBe(3 * 4)
    expect(Date.now() - killed).toBeLessThan(3000)
    // A session opened afterwards gets the board too.
    const next = rpcJob(registry, store, [{ request: { type: 'board-open', call: 1, port: 'demo' }, wait: true }])
    await next.sent
    expect(next.replies.get(1)).toMatchObject({ ok: true })
    next.process.kill('SIGKILL')
    await next.exited
  }, 60_000)
})

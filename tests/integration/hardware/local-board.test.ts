import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import { defaultAgentSourceDir, FLAG_SETS } from '../../../src-main/hardware/agent-source.ts'
import { BoardError, type AgentAnswer, type AgentArgs, type AgentOperation } from '../../../src-main/hardware/board.ts'
import { LocalBoard } from '../../../src-main/hardware/local-board.ts'

async function caught(promise: Promise<unknown>): Promise<BoardError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof BoardError) return error
    throw error
  }
  throw new Error('expected the promise to reject')
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const quick = { repeat: 2, warmup: 0, min_repeat_ms: 1 }

describe('local board', requires('cc'), () => {
  let dataDir: string
  let board: LocalBoard

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'benchside-local-board-'))
    board = new LocalBoard({ dataDir })
    await board.ensureAgent()
  })

  afterAll(async () => {
    await board.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('compiles the agent once per version into the data folder and reports what it was built with', async () => {
    const binary = join(dataDir, 'board-agent', board.agentVersion, 'benchside-agent')
    expect(existsSync(binary)).toBe(true)
    const flags = readFileSync(join(dataDir, 'board-agent', board.agentVersion, 'build-flags.txt'), 'utf8').trim()
    expect(FLAG_SETS).toContain(flags)
    const info = await board.info()
    expect(info).toMatchObject({ agentVersion: board.agentVersion, kind: 'local', cflags: flags, protocol: 1 })
    expect(info.simdPaths).toContain('scalar')
    expect(info.simdPaths).toContain(info.simd)
    expect(info.cores).toBeGreaterThan(0)
    // Another board on the same data folder reuses the binary.
    const built = statSync(binary).mtimeMs
    const second = new LocalBoard({ dataDir })
    expect((await second.run('info')).agent_version).toBe(board.agentVersion)
    expect(statSync(binary).mtimeMs).toBe(built)
    await second.close()
  })

  it('measures peak FLOP/s on one and all cores, and read bandwidth', async () => {
    const peak = await board.run('peak_flops', { iterations: 2000, ...quick })
    expect(peak.per_core).toMatchObject({ repeat: 2 })
    expect((peak.all_cores as { threads: number }).threads).toBe((await board.info()).cores)
    const bw = await board.run('bandwidth', { bytes: 16384, ...quick })
    expect(bw).toMatchObject({ working_set_bytes: 16384, threads: 1 })
    expect(bw.gb_per_s as number).toBeGreaterThan(0)
  })

  it('runs every GEMM path compiled in on odd sizes, each checked by the agent', async () => {
    const info = await board.info()
    for (const simd of info.simdPaths) {
      const f32 = await board.run('gemm_f32', { m: 19, n: 37, k: 23, simd, tile: 8, ...quick })
      expect(f32).toMatchObject({ ok: true, simd, m: 19, n: 37, k: 23, ops: 2 * 19 * 37 * 23 })
      const med = f32.median_s as number
      expect(f32.min_s as number).toBeLessThanOrEqual(med)
      expect(med).toBeLessThanOrEqual(f32.max_s as number)
      expect(f32.gops_per_s as number).toBeCloseTo((f32.ops as number) / med / 1e9, 6)
      expect(f32.intensity_ops_per_byte as number).toBeCloseTo((2 * 19 * 37 * 23) / (4 * (19 * 23 + 23 * 37 + 19 * 37)), 7)
    }
    for (const simd of info.int8Paths) {
      expect(await board.run('gemm_i8', { m: 11, n: 13, k: 70, simd, ...quick })).toMatchObject({ ok: true, simd })
    }
    for (const popcount of info.popcountPaths) {
      for (const layout of ['planes_outer', 'words_outer']) {
        const r = await board.run('gemm_bitserial', { m: 5, n: 9, k: 200, a_bits: 3, w_bits: 2, layout, popcount, ...quick })
        expect(r).toMatchObject({ ok: true, layout, a_bits: 3, w_bits: 2 })
      }
    }
  })

  it('checks every fp32 and bit-serial kernel on sizes that are not multiples of its micro-tile or blocks', async () => {
    const info = await board.info()
    // Each of 1, 17, 33, 100, 513 appears as M, N and K: edge tiles in every direction, K tails inside 64-bit words.
    const shapes = [
      [1, 1, 1],
      [17, 33, 100],
      [33, 17, 513],
      [100, 513, 17],
      [513, 100, 33],
    ] as const
    for (const [m, n, k] of shapes) {
      for (const simd of info.simdPaths) {
        expect(await board.run('gemm_f32', { m, n, k, simd, ...quick }), `fp32 ${simd} ${m}x${n}x${k}`).toMatchObject({ ok: true })
      }
      for (const popcount of info.popcountPaths) {
        for (const [aBits, wBits] of [
          [1, 1],
          [2, 2],
          [4, 4],
          [4, 1],
          [1, 3],
        ] as const) {
          for (const layout of ['planes_outer', 'words_outer']) {
            const args = { m, n, k, a_bits: aBits, w_bits: wBits, layout, popcount, ...quick }
            expect(await board.run('gemm_bitserial', args), JSON.stringify(args)).toMatchObject({ ok: true })
          }
        }
      }
    }
    // K and N split into blocks with partial last blocks: C accumulates over K blocks and is stored per N block.
    const simd = info.simd
    expect(await board.run('gemm_f32', { m: 100, n: 513, k: 513, simd, tile_m: 20, tile_n: 100, tile_k: 60, ...quick })).toMatchObject({ ok: true })
    const blocked = { m: 33, n: 100, k: 513, a_bits: 2, w_bits: 2, tile_n: 40, ...quick }
    const answer = await board.run('gemm_bitserial', blocked)
    expect(answer).toMatchObject({ ok: true })
    // The column block is whole micro-tiles: 40 rounds up to the next multiple of the tile width.
    const width = answer.micro_n as number
    expect(answer.tile_n).toBe(Math.ceil(40 / width) * width)
  })

  it('keeps warming up for warmup_ms before it times', async () => {
    const started = performance.now()
    const r = await board.run('gemm_f32', { m: 8, n: 8, k: 8, ...quick, warmup_ms: 300 })
    expect(r).toMatchObject({ ok: true, repeat: 2 })
    // A lower bound on wall time is behaviour (the warm-up loop ran), not a performance figure.
    expect(performance.now() - started).toBeGreaterThanOrEqual(300)
  })

  it('runs conv2d with im2col and direct methods at fp32, int8 and 2 bits', async () => {
    const shape = { cin: 3, cout: 5, h: 9, w: 7, k: 3, stride: 2, pad: 1 }
    for (const [method, bits] of [
      ['im2col', 32],
      ['direct', 32],
      ['im2col', 8],
      ['im2col', 2],
    ] as const) {
      const r = await board.run('conv2d', { ...shape, method, bits, ...quick })
      expect(r).toMatchObject({ ok: true, method, bits, ho: 5, wo: 4 })
    }
  })

  it('times a whole network with per-layer kept channels and bits', async () => {
    const model = 'conv:cin=3,cout=8,h=8,w=8,k=3,pad=1;dense:in=512,out=32;dense:in=32,out=10'
    const r = await board.run('network', { model, keep: [0.5, 0.25, 1], bits: [32, 8, 2], ...quick })
    const layers = r.layers as { type: string; cout?: number; in?: number; out?: number; kernel: string; median_s: number }[]
    expect(layers.map((l) => l.kernel)).toEqual(['conv2d_im2col_gemm_f32', 'gemm_i8', 'gemm_bitserial'])
    expect(layers[0]!.cout).toBe(4)
    // The pruned conv halves the dense layer's inputs; its own outputs are a quarter.
    expect(layers[1]).toMatchObject({ in: 256, out: 8 })
    expect(layers[2]).toMatchObject({ in: 8, out: 10 })
    const total = r.total as { median_s: number }
    expect(total.median_s).toBeCloseTo(
      layers.reduce((s, l) => s + l.median_s, 0),
      12,
    )
  })

  it('detects a wrong answer in every compute operation', async () => {
    const cases: [AgentOperation, AgentArgs][] = [
      ['gemm_f32', { m: 8, n: 8, k: 8 }],
      ['gemm_i8', { m: 8, n: 8, k: 8 }],
      ['gemm_bitserial', { m: 8, n: 8, k: 64, a_bits: 2, w_bits: 2 }],
      ['gemm_bitserial', { m: 8, n: 8, k: 64, a_bits: 2, w_bits: 2, layout: 'words_outer' }],
      ['conv2d', { cin: 2, cout: 3, h: 5, w: 5, method: 'direct' }],
      ['conv2d', { cin: 2, cout: 3, h: 5, w: 5, bits: 8 }],
      ['conv2d', { cin: 2, cout: 3, h: 5, w: 5, bits: 1 }],
      ['network', { model: 'dense:in=16,out=8;dense:in=8,out=4' }],
    ]
    for (const [op, args] of cases) {
      const clean: AgentAnswer = await board.run(op, { ...args, ...quick })
      expect(clean.ok).toBe(true)
      const error = await caught(board.run(op, { ...args, ...quick, inject_error: true }))
      expect(error.reason, `${op} ${JSON.stringify(args)}`).toBe('WRONG_ANSWER')
      expect(error.message).toContain('wrong answer')
    }
  })

  it('refuses an argument the operation does not take, naming it', async () => {
    const error = await caught(board.run('gemm_f32', { m: 8, tilem: 4 }))
    expect(error.reason).toBe('AGENT')
    expect(error.message).toContain("operation 'gemm_f32' does not take the argument 'tilem'")
  })

  it('kills a hung agent at the timeout', async () => {
    const pids: number[] = []
    const run = board.run('sleep', { seconds: 30, debug: true }, { timeoutMs: 1000 })
    const watch = setInterval(() => pids.push(...board.runningPids()), 20)
    const error = await caught(run)
    clearInterval(watch)
    expect(error.reason).toBe('TIMEOUT')
    expect(error.message).toMatch(/did not answer 'sleep' within 1\.0 s and was stopped/)
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of new Set(pids)) expect(alive(pid)).toBe(false)
  })

  it('kills the agent when the run is cancelled', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 300)
    const error = await caught(board.run('sleep', { seconds: 30, debug: true }, { signal: controller.signal }))
    expect(error.reason).toBe('CANCELLED')
    expect(board.runningPids()).toEqual([])
  })
})

describe('local board built without -march=native', () => {
  let work: string
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'benchside-local-portable-'))
  })
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  // The fallback flag sets compile the portable packing and kernels (no AVX2/AVX-512 intrinsics): they must still agree
  // with the agent's references. A compiler wrapper forces one flag set by refusing -march=native and -fopenmp probes.
  for (const flags of ['-O3', '-O2']) {
    it(`compiles with ${flags} and checks fp32 and bit-serial GEMM on odd sizes`, requires('cc'), async () => {
      expect(FLAG_SETS).toContain(flags)
      const dir = join(work, flags.slice(1))
      const wrapper = join(work, `cc${flags}`)
      writeFileSync(
        wrapper,
        `#!/bin/sh\nfor a in "$@"; do case "$a" in -march=native|-fopenmp|-O3) [ "$a" = "${flags}" ] || exit 1 ;; esac; done\nexec cc "$@"\n`,
        { mode: 0o755 },
      )
      const board = new LocalBoard({ dataDir: dir, compiler: wrapper })
      try {
        expect((await board.info()).cflags).toBe(flags)
        for (const [m, n, k] of [
          [17, 33, 100],
          [33, 17, 513],
        ] as const) {
          expect(await board.run('gemm_f32', { m, n, k, ...quick })).toMatchObject({ ok: true })
          for (const bits of [1, 2, 4]) {
            for (const layout of ['planes_outer', 'words_outer']) {
              expect(await board.run('gemm_bitserial', { m, n, k, a_bits: bits, w_bits: bits, layout, ...quick })).toMatchObject({ ok: true })
            }
          }
        }
      } finally {
        await board.close()
      }
    })
  }
})

describe('local board compile failures', () => {
  let work: string
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'benchside-local-broken-'))
  })
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('gives the first compiler errors of a broken source', requires('cc'), async () => {
    const src = join(work, 'src')
    cpSync(defaultAgentSourceDir(), src, { recursive: true })
    writeFileSync(join(src, 'agent_json.c'), readFileSync(join(src, 'agent_json.c'), 'utf8') + '\nstatic int broken_on_purpose = ;\n')
    const board = new LocalBoard({ dataDir: join(work, 'data'), sourceDir: src })
    const error = await caught(board.info())
    expect(error.reason).toBe('COMPILE')
    expect(error.message).toMatch(/^Compiling the board agent on this computer .* with 'cc' failed:\n/)
    expect(error.message).toMatch(/agent_json\.c:\d+:\d+: error/)
    expect(existsSync(join(work, 'data', 'board-agent', board.agentVersion, 'benchside-agent'))).toBe(false)
  })

  it('says when there is no compiler', async () => {
    const board = new LocalBoard({ dataDir: join(work, 'data2'), compiler: join(work, 'no-such-cc') })
    const error = await caught(board.info())
    expect(error.reason).toBe('COMPILE')
    expect(error.message).toMatch(/^No working C compiler on this computer .*no-such-cc' was not found/)
  })
})

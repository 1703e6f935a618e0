// Imports are jobs: they run in a child process with progress, can be cancelled, and whatever way they end, the data
// folder holds either the whole dataset and its row, or nothing of it.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { zipSync } from 'fflate'
import { afterEach, describe, expect, it } from 'vitest'
import { jobResult } from '../../../src-main/cli/jobs.ts'
import type { JobProgress } from '../../../src-main/contract/index.ts'
import { createCore } from '../../../src-main/core.ts'
import { encodeNpy, encodeNpz } from '../../../src-main/engine/data/npy.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'
import { pcm16, tone } from '../../unit/engine/data/wav-writer.ts'

let harness: JobHarness | null = null
afterEach(() => {
  harness?.close()
  harness = null
})

/** Every progress report of a run, in order. */
function progressOf(h: JobHarness, runUuid: string): JobProgress[] {
  const seen: JobProgress[] = []
  h.core.events.on(({ event, payload }) => {
    if (event === 'jobProgress' && (payload as JobProgress).runUuid === runUuid) seen.push(payload as JobProgress)
  })
  return seen
}

const datasetsDir = (h: JobHarness) => join(h.dataDir, 'datasets')
const datasetFolders = (h: JobHarness) => (existsSync(datasetsDir(h)) ? readdirSync(datasetsDir(h)) : [])
const exited = (h: JobHarness, runUuid: string) => waitFor(() => !h.core.jobs.list().some((job) => job.runUuid === runUuid), 15_000, 'the job process to exit')

function userFile(h: JobHarness, name: string, bytes: Uint8Array): string {
  mkdirSync(join(h.dataDir, 'user-files'), { recursive: true })
  const file = join(h.dataDir, 'user-files', name)
  writeFileSync(file, bytes)
  return file
}

function npzOf(count: number, largestLabel = 1): Uint8Array {
  const labels = Int32Array.from({ length: count }, (_, i) => (i === 0 ? largestLabel : i % 2))
  return encodeNpz({
    x_train: { shape: [count, 4, 4], data: Float32Array.from({ length: count * 16 }, (_, i) => Math.sin(i)) },
    y_train: { shape: [count], data: labels },
    x_test: { shape: [count, 4, 4], data: Float32Array.from({ length: count * 16 }, (_, i) => Math.cos(i)) },
    y_test: { shape: [count], data: labels.map((l) => l % 2) },
  })
}

describe('dataset imports as jobs', () => {
  it('checks and copies an NPZ in a child process with progress, then registers it', async () => {
    harness = jobHarness()
    const file = userFile(harness, 'tiny.npz', npzOf(40))
    const run = await harness.core.api.importDataset({ path: file, name: 'tiny' })
    expect(run).toMatchObject({ kind: 'dataset-import', name: 'import tiny' })
    const progress = progressOf(harness, run.uuid)
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    await exited(harness, run.uuid)
    // One job process, not this one.
    expect(harness.launched).toHaveLength(1)
    expect(harness.launched[0]!.pid).not.toBe(process.pid)
    expect(progress.some((p) => p.state === 'running' && p.fraction > 0 && p.fraction < 1 && p.phase !== 'starting')).toBe(true)

    const result = await jobResult(harness.core.api, run.uuid, 'dataset-import')
    expect(result).toMatchObject({ name: 'tiny', format: 'npz', sampleShape: [4, 4, 1], classNames: ['0', '1'], counts: { train: 40, test: 40 } })
    expect(result.id).toBe(`tiny-${run.uuid.slice(0, 8)}`)
    expect(datasetFolders(harness)).toEqual([result.id])
    expect(readdirSync(join(datasetsDir(harness), result.id))).toEqual(['data.npz'])
    const listed = (await harness.core.api.listDatasets({})).find((d) => d.id === result.id)
    expect(listed).toMatchObject({ origin: 'imported', name: 'tiny', counts: { train: 40, validation: 0, test: 40 } })
    expect((await harness.core.api.getDataset({ id: result.id, samplesPerClass: 1 })).classCounts.train).toEqual([19, 21])
  })

  it('can be cancelled mid-way, leaving no folder and no dataset', async () => {
    harness = jobHarness()
    // Enough clips that reading them takes seconds, so the cancel lands while the staging folder fills.
    const folder = join(harness.dataDir, 'user-files', 'keywords')
    const clip = pcm16(tone(300, 0.1, 16000), 16000)
    for (const word of ['yes', 'no']) {
      mkdirSync(join(folder, word), { recursive: true })
      for (let i = 0; i < 1500; i++) writeFileSync(join(folder, word, `${word}${i}_nohash_0.wav`), clip)
    }
    const run = await harness.core.api.importDataset({ path: folder })
    const progress = progressOf(harness, run.uuid)
    const staging = join(datasetsDir(harness), `.importing-${run.uuid}`)
    await waitFor(() => progress.some((p) => p.phase === 'reading clips'), 60_000, 'the clips being read')
    expect(readdirSync(staging).length).toBeGreaterThan(0)

    const killed = await harness.core.api.cancelJob({ run: run.uuid })
    expect(killed.status).toBe('KILLED')
    await exited(harness, run.uuid)
    expect((await harness.finish(run.uuid)).state).toBe('killed')
    expect(datasetFolders(harness)).toEqual([])
    expect(harness.core.store.datasets.list()).toEqual([])
    expect((await harness.core.api.getRun({ run: run.uuid })).status).toBe('KILLED')
  }, 120_000)

  it('fails a hostile file with a sentence, in moments, leaving nothing behind', async () => {
    harness = jobHarness()
    // A tiny NPZ whose one label of 99,999,999 once built a hundred million class names (280 s, then out of memory).
    const hostile = userFile(harness, 'hostile.npz', npzOf(2, 99_999_999))
    expect(statSync(hostile).size).toBeLessThan(2048)
    const started = Date.now()
    const run = await harness.core.api.importDataset({ path: hostile })
    expect((await harness.finish(run.uuid, 60_000)).state).toBe('failed')
    expect(Date.now() - started).toBeLessThan(30_000)
    await exited(harness, run.uuid)
    expect((await harness.core.api.getRun({ run: run.uuid })).error).toMatch(
      /hostile\.npz: its largest label is 99,999,999, which would make 100,000,000 classes/,
    )

    // A FIFO named *.wav in a class folder: refused, not waited on.
    const folder = join(harness.dataDir, 'user-files', 'words')
    for (const word of ['yes', 'no']) {
      mkdirSync(join(folder, word), { recursive: true })
      writeFileSync(join(folder, word, `${word}_nohash_0.wav`), pcm16(tone(300, 0.1, 16000), 16000))
    }
    execFileSync('mkfifo', [join(folder, 'no', 'pipe_nohash_0.wav')])
    const fifoRun = await harness.core.api.importDataset({ path: folder })
    expect((await harness.finish(fifoRun.uuid, 60_000)).state).toBe('failed')
    await exited(harness, fifoRun.uuid)
    expect((await harness.core.api.getRun({ run: fifoRun.uuid })).error).toMatch(/pipe_nohash_0\.wav: is a FIFO \(named pipe\), not a regular file/)

    expect(datasetFolders(harness)).toEqual([])
    expect(harness.core.store.datasets.list()).toEqual([])
  }, 120_000)

  it('answers an impossible NPY shape with INVALID_ARGS and a sentence, not INTERNAL', async () => {
    harness = jobHarness()
    const header = new TextEncoder().encode("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 16), }\n")
    const npy = new Uint8Array(10 + header.length + 64)
    npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0])
    new DataView(npy.buffer).setUint16(8, header.length, true)
    npy.set(header, 10)
    const file = userFile(
      harness,
      'negative.npz',
      zipSync({
        'x_train.npy': npy,
        'y_train.npy': encodeNpy([1], Int32Array.of(0)),
        'x_test.npy': encodeNpy([1, 4, 4], new Float32Array(16)),
        'y_test.npy': encodeNpy([1], Int32Array.of(0)),
      }),
    )
    const run = await harness.core.api.importDataset({ path: file })
    expect((await harness.finish(run.uuid, 60_000)).state).toBe('failed')
    expect((await harness.core.api.getRun({ run: run.uuid })).error).toMatch(/negative\.npz:x_train\.npy: the shape \(-1, 16\) is impossible/)
    // A dataset whose file was replaced by such a file after it was imported.
    harness.core.store.datasets.insert({
      id: 'replaced',
      name: 'replaced',
      format: 'npz',
      path: file,
      sampleShape: [4, 4, 1],
      classNames: ['0'],
      counts: { train: 1, validation: 0, test: 1 },
      createdAt: Date.now(),
    })
    const error = await harness.core.api.getDataset({ id: 'replaced', samplesPerClass: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INVALID_ARGS', message: expect.stringMatching(/the shape \(-1, 16\) is impossible/) as unknown })
  }, 120_000)
})

describe('start-up', () => {
  it('removes the staging folder an import left when its host died', () => {
    const home = tempHome()
    try {
      const open = () => createCore({ dataDir: home.dir, host: 'cli', launch: nodeJobLauncher })
      open().close()
      const stale = join(home.dir, 'datasets', `.importing-${randomUUID()}`)
      mkdirSync(stale, { recursive: true })
      writeFileSync(join(stale, 'data.npz'), 'half a copy')
      const kept = join(home.dir, 'datasets', 'kept-dataset')
      mkdirSync(kept)
      open().close()
      expect(existsSync(stale)).toBe(false)
      expect(existsSync(kept)).toBe(true)
    } finally {
      home.remove()
    }
  })
})

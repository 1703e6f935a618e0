// `benchside data import` as a user runs it: a job followed with progress, then its result or the sentence saying why
// it failed; Ctrl-C cancels it and nothing is kept. A real Node process over a real data folder.
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeNpz } from '../../../src-main/engine/data/npy.ts'
import { tempHome, waitFor } from '../../helpers/temp-home.ts'
import { pcm16, tone } from '../../unit/engine/data/wav-writer.ts'

const bin = fileURLToPath(new URL('../../../bin/benchside.js', import.meta.url))
const run = promisify(execFile)

function npz(largestLabel: number): Uint8Array {
  const labels = Int32Array.from({ length: 20 }, (_, i) => (i === 0 ? largestLabel : i % 2))
  const x = Float32Array.from({ length: 20 * 9 }, (_, i) => Math.sin(i))
  return encodeNpz({
    x_train: { shape: [20, 3, 3], data: x },
    y_train: { shape: [20], data: labels },
    x_test: { shape: [20, 3, 3], data: x },
    y_test: { shape: [20], data: labels },
  })
}

describe('benchside data import', () => {
  let home: ReturnType<typeof tempHome>
  const env = () => ({ ...process.env, BENCHSIDE_HOME: home.dir })
  const cli = (...args: string[]) => run('node', [bin, ...args], { env: env() })
  const datasetFolders = () => (existsSync(join(home.dir, 'datasets')) ? readdirSync(join(home.dir, 'datasets')) : [])

  beforeEach(() => (home = tempHome()))
  afterEach(() => home.remove())

  it('follows the import job and prints what it imported, or the sentence saying why not', async () => {
    const file = join(home.dir, 'tiny.npz')
    writeFileSync(file, npz(1))
    const { stdout, stderr } = await cli('data', 'import', file, '--name', 'tiny')
    expect(stderr).toMatch(/^Importing .*tiny\.npz \(run [0-9a-f]{8}\); Ctrl-C cancels\./)
    expect(stdout).toMatch(/^Imported tiny as 'tiny-[0-9a-f]{8}': 20 train \/ 20 test samples of 3×3×1, 2 classes\.$/m)
    const listed = JSON.parse((await cli('data', 'list', '--json')).stdout) as { id: string; origin: string }[]
    expect(listed.filter((d) => d.origin === 'imported').map((d) => d.id)).toEqual(datasetFolders())

    writeFileSync(file, npz(99_999_999))
    const failed = await cli('data', 'import', file).then(
      () => expect.unreachable('the import should have failed'),
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(/FAILED: .*tiny\.npz: its largest label is 99,999,999, which would make 100,000,000 classes/)
    expect(datasetFolders()).toHaveLength(1)
  }, 120_000)

  it('cancels on Ctrl-C, keeping nothing', async () => {
    const folder = join(home.dir, 'keywords')
    const clip = pcm16(tone(300, 0.1, 16000), 16000)
    for (const word of ['yes', 'no']) {
      mkdirSync(join(folder, word), { recursive: true })
      for (let i = 0; i < 3000; i++) writeFileSync(join(folder, word, `${word}${i}_nohash_0.wav`), clip)
    }
    const child = spawn('node', [bin, 'data', 'import', folder], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    // Interrupt once the job is reading clips (its staging folder is filling).
    await waitFor(() => datasetFolders().some((name) => name.startsWith('.importing-')), 60_000, 'the import to start')
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(stderr).toMatch(/Cancelling…/)
    expect(stderr).toMatch(/KILLED/)
    expect(datasetFolders()).toEqual([])
  }, 120_000)
})

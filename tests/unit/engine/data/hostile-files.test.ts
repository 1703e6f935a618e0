// Files made to hurt an importer: sizes that lie, labels that ask for a hundred million classes, FIFOs named *.wav,
// absurd sample rates, zip and gzip bombs. Each is refused (or its unused part skipped) quickly, with a sentence
// naming the file, and without allocating what it asks for.
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { zipSync } from 'fflate'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { importFormatOf } from '../../../../src-main/engine/data/dataset-import.ts'
import { encodeIdxU8, parseIdx } from '../../../../src-main/engine/data/idx.ts'
import { encodeNpy, encodeNpz, parseNpy, parseNpz } from '../../../../src-main/engine/data/npy.ts'
import { readRegularFile } from '../../../../src-main/engine/data/regular-file.ts'
import { readIdxFolder, readNpzDataset } from '../../../../src-main/engine/data/sources.ts'
import { parseWav, readWavAt } from '../../../../src-main/engine/data/wav.ts'
import { readWavFolder } from '../../../../src-main/engine/data/wav-folder.ts'
import { failure } from '../../../helpers/data-file-error.ts'
import { tempHome } from '../../../helpers/temp-home.ts'
import { deflatedEntry, deflatedZeros, zipOf } from '../../../helpers/zip-writer.ts'
import { pcm16, tone, wavBytes } from './wav-writer.ts'

let home: ReturnType<typeof tempHome>
beforeEach(() => (home = tempHome()))
afterEach(() => home.remove())

const GiB = 2 ** 30
const meta = { id: 'hostile', name: 'hostile' }

/** Runs `call`, and how long it took and how many ArrayBuffer bytes it left allocated. */
function measured<T>(call: () => T): { value: T; ms: number; buffers: number } {
  const before = process.memoryUsage().arrayBuffers
  const start = performance.now()
  const value = call()
  return { value, ms: performance.now() - start, buffers: process.memoryUsage().arrayBuffers - before }
}

function refusedQuickly(call: () => unknown): string {
  const { value: error, ms } = measured(() => failure(call))
  expect(ms).toBeLessThan(1000)
  return error.message
}

/** The four arrays of a one-sample-per-split NPZ dataset, labels as given. */
function tinyArrays(trainLabel: number, testLabel = 0) {
  return {
    x_train: { shape: [1, 2, 2], data: Uint8Array.of(1, 2, 3, 4) },
    y_train: { shape: [1], data: Int32Array.of(trainLabel) },
    x_test: { shape: [1, 2, 2], data: Uint8Array.of(4, 3, 2, 1) },
    y_test: { shape: [1], data: Int32Array.of(testLabel) },
  }
}

describe('labels that imply classes', () => {
  it('refuses a tiny NPZ whose one label of 99,999,999 would make 100 million class names, in well under a second', () => {
    const file = join(home.dir, 'hostile.npz')
    writeFileSync(file, encodeNpz(tinyArrays(99_999_999)))
    const message = refusedQuickly(() => readNpzDataset(file, meta))
    expect(message).toBe(
      'hostile.npz: its largest label is 99,999,999, which would make 100,000,000 classes; at most 1,000 classes are supported (labels number the classes from 0).',
    )
  })

  it('refuses more classes than there are labels, and takes classes up to that', () => {
    const file = join(home.dir, 'gaps.npz')
    writeFileSync(file, encodeNpz(tinyArrays(7)))
    expect(refusedQuickly(() => readNpzDataset(file, meta))).toMatch(/largest label is 7, which would make 8 classes, but it holds only 2 labels/)
    writeFileSync(file, encodeNpz(tinyArrays(1)))
    expect(readNpzDataset(file, meta).classNames).toEqual(['0', '1'])
  })

  it('checks the labels of an IDX folder the same way', () => {
    const images = encodeIdxU8([1, 2, 2], Uint8Array.of(1, 2, 3, 4))
    // Big-endian int32 labels (IDX type 0x0C), so one label can be large.
    const labels = (...values: number[]) => {
      const out = new Uint8Array(8 + 4 * values.length)
      out.set([0, 0, 0x0c, 1])
      const view = new DataView(out.buffer)
      view.setUint32(4, values.length)
      values.forEach((value, i) => view.setInt32(8 + 4 * i, value))
      return out
    }
    writeFileSync(join(home.dir, 'train-images-idx3-ubyte'), images)
    writeFileSync(join(home.dir, 't10k-images-idx3-ubyte'), images)
    writeFileSync(join(home.dir, 'train-labels-idx1-ubyte'), labels(99_999_999))
    writeFileSync(join(home.dir, 't10k-labels-idx1-ubyte'), labels(0))
    expect(refusedQuickly(() => readIdxFolder(home.dir, meta))).toMatch(/largest label is 99,999,999, which would make 100,000,000 classes/)
  })
})

describe('files that are not regular files', () => {
  it('refuses a FIFO named *.wav in a class folder at once instead of waiting for a writer', () => {
    for (const [className, speaker] of [
      ['low', 'a'],
      ['high', 'b'],
    ] as const) {
      mkdirSync(join(home.dir, className))
      for (let i = 0; i < 8; i++) writeFileSync(join(home.dir, className, `${speaker}${i}_nohash_0.wav`), pcm16(tone(300, 0.2, 16000), 16000))
    }
    const fifo = join(home.dir, 'high', 'zz_nohash_0.wav')
    execFileSync('mkfifo', [fifo])
    const error = failure(() => readWavFolder(home.dir, meta))
    expect(error.file).toBe(fifo)
    expect(error.message).toBe(`${fifo}: is a FIFO (named pipe), not a regular file; only regular files are read.`)
  })

  it('follows a symbolic link to a regular file, but not one to a FIFO, a device or a folder', () => {
    const real = join(home.dir, 'real.wav')
    writeFileSync(real, pcm16(tone(300, 0.1, 16000), 16000))
    symlinkSync(real, join(home.dir, 'link.wav'))
    expect(readRegularFile(join(home.dir, 'link.wav'))).toEqual(readRegularFile(real))
    execFileSync('mkfifo', [join(home.dir, 'pipe')])
    symlinkSync(join(home.dir, 'pipe'), join(home.dir, 'pipe-link.npz'))
    expect(refusedQuickly(() => readRegularFile(join(home.dir, 'pipe-link.npz')))).toMatch(/pipe-link\.npz: is a FIFO \(named pipe\), not a regular file/)
    expect(refusedQuickly(() => readRegularFile('/dev/zero'))).toBe('/dev/zero: is a device, not a regular file; only regular files are read.')
    expect(refusedQuickly(() => readRegularFile(home.dir))).toMatch(/is a folder, not a regular file/)
    expect(refusedQuickly(() => importFormatOf(join(home.dir, 'pipe')))).toMatch(/pipe: is a FIFO \(named pipe\); import a folder of IDX files, an NPZ file/)
  })

  it('refuses a file over the size limit before reading it', () => {
    const file = join(home.dir, 'big.wav')
    writeFileSync(file, new Uint8Array(4096))
    expect(refusedQuickly(() => readRegularFile(file, 1024))).toBe(`${file}: is 4 KiB; files over 1 KiB are not read here.`)
  })
})

describe('WAV sample rates', () => {
  it('refuses 1 Hz and 4,294,967,295 Hz at once, and reads 1 kHz to 384 kHz', () => {
    // 8 KB of audio declared at 1 Hz: resampling it to 16 kHz took 47 s before the rate was checked.
    const slow = wavBytes({ channels: [Array.from({ length: 4096 }, (_, i) => i % 100)], sampleRate: 1, bits: 16 })
    expect(refusedQuickly(() => readWavAt(slow, 'slow.wav'))).toBe(
      'slow.wav: the format chunk gives a sample rate of 1 Hz; audio from 1,000 to 384,000 Hz is read.',
    )
    const absurd = wavBytes({ channels: [[1, 2, 3, 4]], sampleRate: 4_294_967_295, bits: 16 })
    expect(refusedQuickly(() => parseWav(absurd, 'absurd.wav'))).toMatch(/^absurd\.wav: the format chunk gives a sample rate of 4294967295 Hz/)
    expect(failure(() => parseWav(wavBytes({ channels: [[1]], sampleRate: 999, bits: 16 }), 'low.wav')).message).toMatch(/999 Hz/)
    expect(failure(() => parseWav(wavBytes({ channels: [[1]], sampleRate: 384_001, bits: 16 }), 'high.wav')).message).toMatch(/384001 Hz/)
    expect(parseWav(wavBytes({ channels: [[1]], sampleRate: 1000, bits: 16 })).sampleRate).toBe(1000)
    expect(parseWav(wavBytes({ channels: [[1]], sampleRate: 384_000, bits: 16 })).sampleRate).toBe(384_000)
  })

  it('refuses a data chunk that claims more bytes than the file holds', () => {
    const lying = wavBytes({ channels: [[1, 2, 3, 4]], sampleRate: 16000, bits: 16, dataSize: 1_000_000 })
    expect(refusedQuickly(() => parseWav(lying, 'lying.wav'))).toMatch(/the 'data' chunk announces 1000000 bytes but only 8 remain \(truncated\)/)
  })

  it('decodes only the start of a long clip and gives the same first second as decoding all of it', () => {
    const samples = tone(440, 5, 48000)
    const long = wavBytes({ channels: [Array.from(samples, (v) => Math.round(v * 32767))], sampleRate: 48000, bits: 16 })
    const whole = readWavAt(long, 'long.wav', 16000)
    const start = readWavAt(long, 'long.wav', 16000, 1)
    expect(whole.length).toBe(80000)
    expect(start.length).toBeLessThan(17000)
    expect(Array.from(start.subarray(0, 16000))).toEqual(Array.from(whole.subarray(0, 16000)))
  })
})

describe('NPY shapes', () => {
  const header = (shape: string) => {
    const text = new TextEncoder().encode(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }\n`)
    const out = new Uint8Array(10 + text.length + 64)
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0])
    new DataView(out.buffer).setUint16(8, text.length, true)
    out.set(text, 10)
    return out
  }

  it('refuses a negative dimension such as (-1, 16) with a sentence, not a crash', () => {
    expect(refusedQuickly(() => parseNpy(header('(-1, 16)'), 'x.npy'))).toBe(
      'x.npy: the shape (-1, 16) is impossible: every dimension must be a whole number, zero or more.',
    )
    expect(failure(() => parseNpy(header('(2.5,)'), 'x.npy')).message).toMatch(/shape \(2\.5\) is impossible/)
    // A shape whose size overflows is truncation, not an allocation.
    expect(refusedQuickly(() => parseNpy(header('(4294967296, 4294967296)'), 'x.npy'))).toMatch(/^x\.npy: truncated: shape \(4294967296, 4294967296\) needs/)
  })

  it('refuses data bytes the shape does not account for', () => {
    const good = encodeNpy([2], Float32Array.of(1, 2))
    const padded = new Uint8Array(good.length + 4)
    padded.set(good)
    expect(failure(() => parseNpy(padded, 'p.npy')).message).toBe(
      'p.npy: shape (2) needs 8 data bytes, but 12 follow the header; the header does not describe this data.',
    )
  })

  it('names the member of an NPZ dataset whose x_train has shape (-1, 16)', () => {
    const file = join(home.dir, 'negative.npz')
    const arrays = tinyArrays(0)
    writeFileSync(
      file,
      zipSync({
        'x_train.npy': header('(-1, 16)'),
        'y_train.npy': encodeNpy([1], arrays.y_train.data),
        'x_test.npy': encodeNpy(arrays.x_test.shape, arrays.x_test.data),
        'y_test.npy': encodeNpy([1], arrays.y_test.data),
      }),
    )
    expect(refusedQuickly(() => readNpzDataset(file, meta))).toMatch(/^negative\.npz:x_train\.npy: the shape \(-1, 16\) is impossible/)
  })
})

describe('zip bombs', () => {
  // 1 GiB of zeros deflated to about 1 MB: the bomb of the report. Made once, in pieces, without holding the zeros.
  let gibOfZeros: Uint8Array
  beforeAll(async () => {
    gibOfZeros = await deflatedZeros(GiB)
  }, 120_000)

  const arrays = () => Object.entries(tinyArrays(0)).map(([name, a]) => deflatedEntry(`${name}.npy`, encodeNpy(a.shape, a.data)))

  it('skips an unused 1 GiB entry of an NPZ dataset without inflating it', () => {
    const file = join(home.dir, 'bomb.npz')
    writeFileSync(file, zipOf([...arrays(), { name: 'junk.npy', data: gibOfZeros, method: 8, size: GiB }]))
    const { value: dataset, ms, buffers } = measured(() => readNpzDataset(file, meta))
    expect(dataset.train.count).toBe(1)
    expect(ms).toBeLessThan(1000)
    expect(buffers).toBeLessThan(64 * 2 ** 20)
    // Asked for every array (as weights are), the same entry is refused by its ratio before a byte is inflated.
    const bytes = zipOf([...arrays(), { name: 'junk.npy', data: gibOfZeros, method: 8, size: GiB }])
    expect(refusedQuickly(() => parseNpz(bytes, 'bomb.npz'))).toMatch(
      /^bomb\.npz: 'junk\.npy' declares 1 GiB from \d+ KiB of compressed data \(over 200:1\), which is how a zip bomb looks/,
    )
  })

  it('refuses a used entry made by zipSync of a large zero buffer, by its ratio, before inflating it', () => {
    const zeros = new Uint8Array(64 * 2 ** 20)
    const bytes = zipSync({ 'x_train.npy': zeros, 'y_train.npy': new Uint8Array(8) })
    expect(bytes.length).toBeLessThan(2 ** 20)
    const { value: error, ms, buffers } = measured(() => failure(() => parseNpz(bytes, 'zeros.npz')))
    expect(error.message).toMatch(/^zeros\.npz: 'x_train\.npy' declares 64 MiB from \d+ KiB of compressed data \(over 200:1\)/)
    expect(ms).toBeLessThan(1000)
    expect(buffers).toBeLessThan(32 * 2 ** 20)
  })

  it('stops inflating an entry the moment it gives more than it declared', () => {
    const lying = zipOf([{ name: 'x_train.npy', data: gibOfZeros, method: 8, size: 4096 }])
    const { value: error, ms, buffers } = measured(() => failure(() => parseNpz(lying, 'lying.npz')))
    expect(error.message).toBe("lying.npz: 'x_train.npy' inflates to more than the 4 KiB it declares (a damaged archive, or a zip bomb).")
    expect(ms).toBeLessThan(1000)
    expect(buffers).toBeLessThan(64 * 2 ** 20)
  })

  it('refuses entries that together declare more than the size cap, before inflating any', () => {
    const declared = zipOf([
      { name: 'x_train.npy', data: gibOfZeros, method: 8, size: 0xffff0000 },
      { name: 'y_train.npy', data: gibOfZeros, method: 8, size: GiB },
    ])
    expect(refusedQuickly(() => parseNpz(declared, 'huge.npz'))).toMatch(
      /^huge\.npz: 'x_train\.npy' declares 4 GiB, which takes the arrays read from this archive past 2 GiB/,
    )
  })

  it('refuses a gzipped IDX file that inflates past 200:1', () => {
    const bomb = gzipSync(new Uint8Array(64 * 2 ** 20))
    const { value: error, ms } = measured(() => failure(() => parseIdx(bomb, 'train-images-idx3-ubyte.gz')))
    expect(error.message).toMatch(/^train-images-idx3-ubyte\.gz: its gzip data inflates to more than 16 MiB \(over 200:1 or past 2 GiB\)/)
    expect(ms).toBeLessThan(1000)
  })
})

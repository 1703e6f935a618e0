import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mfccExtractor } from '../../../../src-main/engine/data/mfcc.ts'
import { readWavFolder, splitOf } from '../../../../src-main/engine/data/wav-folder.ts'
import { tempHome } from '../../../helpers/temp-home.ts'
import { pcm16, tone, wavBytes } from './wav-writer.ts'
import { failure } from '../../../helpers/data-file-error.ts'

let home: ReturnType<typeof tempHome>
beforeEach(() => (home = tempHome()))
afterEach(() => home.remove())

const meta = { id: 'kw', name: 'Keywords' }

function write(relative: string, bytes: Uint8Array): string {
  const file = join(home.dir, relative)
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, bytes)
  return file
}

/** Two classes of 17 speakers each: speakers 15 and 16 hash to validation, 7 to test, the rest to train. */
function twoClasses(): void {
  for (let i = 0; i <= 16; i++) {
    write(`low/speaker${i}_nohash_0.wav`, pcm16(tone(200 + 10 * i, 0.8, 16000), 16000))
    write(`high/speaker${i}_nohash_0.wav`, pcm16(tone(2500 + 50 * i, 0.9, 16000), 16000))
  }
}

describe('splitOf follows the Speech Commands hash', () => {
  it('agrees with which_set() of the TensorFlow speech_commands example (values computed with Python hashlib)', () => {
    expect(splitOf('0a7c2a8d_nohash_0.wav')).toBe('train')
    expect(splitOf('fe1916ba_nohash_0.wav')).toBe('test')
    expect(splitOf('9a7c1f83_nohash_1.wav')).toBe('test')
    expect(splitOf('speaker15_nohash_0.wav')).toBe('validation')
    expect(splitOf('speaker7_nohash_3.wav')).toBe('test')
    // Without _nohash_ the whole name, extension included, is hashed: 'b' is at 15.7 %.
    expect(splitOf('b')).toBe('test')
    expect(splitOf('b', 20, 10)).toBe('validation')
  })

  it('puts all clips of one speaker in the same split, whatever the folder', () => {
    for (const speaker of ['speaker7', 'speaker15', 'speaker3']) {
      const splits = new Set([0, 1, 2, 3].map((k) => splitOf(`/data/yes/${speaker}_nohash_${k}.wav`)))
      expect(splits.size).toBe(1)
    }
  })
})

describe('readWavFolder', () => {
  it('turns class folders of .wav files into a 49×10×1 MFCC dataset split by file-name hash', () => {
    twoClasses()
    write('_background_noise_/hum.wav', pcm16(tone(50, 1, 16000), 16000))
    write('.cache/x.wav', new Uint8Array(3))
    write('low/readme.txt', new TextEncoder().encode('not audio'))
    const d = readWavFolder(home.dir, meta)
    expect(d.classNames).toEqual(['high', 'low'])
    expect(d.sampleShape).toEqual([49, 10, 1])
    expect(d.train.x).toBeInstanceOf(Float32Array)
    expect([d.train.count, d.validation?.count, d.test.count]).toEqual([28, 4, 2])
    expect(d.train.x.length).toBe(28 * 490)
    expect(Array.from(d.test.y)).toEqual([0, 1])
    expect(Array.from(d.validation!.y)).toEqual([0, 0, 1, 1])
    expect(d.normalization.scale).toBe(1)
    expect(d.normalization.std).toBeGreaterThan(0)
    // The test clip of 'high' is speaker 7's tone, computed independently of the folder reader.
    const expected = mfccExtractor().features(tone(2500 + 50 * 7, 0.9, 16000).map((v) => Math.round(v * 32768) / 32768))
    const got = d.test.x.subarray(0, 490)
    for (let i = 0; i < 490; i++) expect(got[i]).toBeCloseTo(expected[i]!, 3)
  })

  it('reads mixed formats and rates (8-bit 8 kHz, stereo 44.1 kHz float) into the same features', () => {
    twoClasses()
    write('low/eightbit_nohash_0.wav', wavBytes({ channels: [Array.from(tone(300, 0.5, 8000), (v) => Math.round(128 + 127 * v))], sampleRate: 8000, bits: 8 }))
    const stereo = Array.from(tone(2700, 0.5, 44100))
    write('high/stereo_nohash_0.wav', wavBytes({ channels: [stereo, stereo], sampleRate: 44100, bits: 32, format: 3 }))
    const d = readWavFolder(home.dir, meta)
    expect(d.train.count + (d.validation?.count ?? 0) + d.test.count).toBe(36)
    for (const v of d.train.x) expect(Number.isFinite(v)).toBe(true)
  })

  it('keeps every file in its split when the folder grows', () => {
    twoClasses()
    const before = readWavFolder(home.dir, meta)
    for (let i = 17; i < 25; i++) write(`low/speaker${i}_nohash_0.wav`, pcm16(tone(600 + i, 0.5, 16000), 16000))
    const after = readWavFolder(home.dir, meta)
    expect(after.test.x.subarray(0, 490)).toEqual(before.test.x.subarray(0, 490))
    expect(after.validation!.x.subarray(0, 2 * 490)).toEqual(before.validation!.x.subarray(0, 2 * 490))
  })

  it('says when there are no class folders', () => {
    write('_background_noise_/hum.wav', pcm16(tone(50, 1, 16000), 16000))
    write('loose.wav', pcm16(tone(50, 1, 16000), 16000))
    const error = failure(() => readWavFolder(home.dir, meta))
    expect(error.file).toBe(home.dir)
    expect(error.message).toMatch(/has no class folders; put the \.wav files of each class in a subfolder/)
    expect(failure(() => readWavFolder(join(home.dir, 'missing'), meta)).message).toMatch(/cannot be read as a folder \(ENOENT\)/)
  })

  it('names a class folder without .wav files', () => {
    twoClasses()
    write('maybe/notes.txt', new TextEncoder().encode('no audio here'))
    const error = failure(() => readWavFolder(home.dir, meta))
    expect(error.file).toBe(join(home.dir, 'maybe'))
    expect(error.message).toMatch(/the class 'maybe' has no \.wav files/)
  })

  it('names the file that is not a readable WAV', () => {
    twoClasses()
    const bad = write('low/broken_nohash_0.wav', new TextEncoder().encode('this is text, not audio'))
    const error = failure(() => readWavFolder(home.dir, meta))
    expect(error.file).toBe(bad)
    expect(error.message).toBe(`${bad}: this is not a WAV file: it must start with 'RIFF' and 'WAVE'.`)
    const cut = pcm16(tone(300, 0.5, 16000), 16000)
    write('low/broken_nohash_0.wav', cut.subarray(0, 1000))
    expect(failure(() => readWavFolder(home.dir, meta)).message).toMatch(
      /broken_nohash_0\.wav: the 'data' chunk announces 16000 bytes but only 956 remain \(truncated\)/,
    )
  })

  it('needs at least two classes and clips in both the training and test splits', () => {
    write('only/speaker0_nohash_0.wav', pcm16(tone(300, 0.5, 16000), 16000))
    expect(failure(() => readWavFolder(home.dir, meta)).message).toMatch(/only one class folder \('only'\)/)
    write('other/speaker1_nohash_0.wav', pcm16(tone(300, 0.5, 16000), 16000))
    expect(failure(() => readWavFolder(home.dir, meta)).message).toMatch(/its 2 files gave 2 training and 0 test clips/)
  })

  it('refuses a folder whose classes changed since it was imported', () => {
    twoClasses()
    expect(failure(() => readWavFolder(home.dir, { ...meta, classNames: ['high', 'low', 'mid'] })).message).toMatch(
      /class folders are now high, low, but the dataset was imported with high, low, mid/,
    )
    expect(readWavFolder(home.dir, { ...meta, classNames: ['high', 'low'] }).classNames).toEqual(['high', 'low'])
  })
})

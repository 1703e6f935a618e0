import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseWav, readWavAt, resample } from '../../../../src-main/engine/data/wav.ts'
import { tempHome } from '../../../helpers/temp-home.ts'
import { tone, wavBytes } from './wav-writer.ts'
import { failure } from '../../../helpers/data-file-error.ts'
import { requires } from '../../../helpers/components.ts'

function rmsOf(x: ArrayLike<number>, from = 0, to = x.length): number {
  let sum = 0
  for (let i = from; i < to; i++) sum += x[i]! ** 2
  return Math.sqrt(sum / (to - from))
}

describe('parseWav decodes every supported sample format to [-1, 1]', () => {
  it('16-bit PCM', () => {
    const audio = parseWav(wavBytes({ channels: [[0, 16384, -32768, 32767, -1]], sampleRate: 16000, bits: 16 }))
    expect(audio).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16, encoding: 'pcm' })
    expect(Array.from(audio.samples)).toEqual([0, 0.5, -1, 32767 / 32768, -1 / 32768])
  })

  it('8-bit PCM is unsigned around 128', () => {
    const audio = parseWav(wavBytes({ channels: [[128, 192, 0, 64, 255]], sampleRate: 8000, bits: 8 }))
    expect(Array.from(audio.samples)).toEqual([0, 0.5, -1, -0.5, 127 / 128])
  })

  it('24-bit PCM, sign-extended', () => {
    const audio = parseWav(wavBytes({ channels: [[0, 4194304, -4194304, -8388608, -1]], sampleRate: 44100, bits: 24 }))
    expect(Array.from(audio.samples)).toEqual([0, 0.5, -0.5, -1, -1 / 8388608])
  })

  it('32-bit PCM', () => {
    const audio = parseWav(wavBytes({ channels: [[1073741824, -2147483648, -536870912]], sampleRate: 48000, bits: 32 }))
    expect(Array.from(audio.samples)).toEqual([0.5, -1, -0.25])
  })

  it('32-bit and 64-bit float', () => {
    const f32 = parseWav(wavBytes({ channels: [[0.25, -0.75, 1]], sampleRate: 16000, bits: 32, format: 3 }))
    expect(f32.encoding).toBe('float')
    expect(Array.from(f32.samples)).toEqual([0.25, -0.75, 1])
    expect(Array.from(parseWav(wavBytes({ channels: [[0.125, -0.5]], sampleRate: 16000, bits: 64, format: 3 })).samples)).toEqual([0.125, -0.5])
  })

  it('WAVE_FORMAT_EXTENSIBLE wrapping PCM or float', () => {
    expect(Array.from(parseWav(wavBytes({ channels: [[16384, -8192]], sampleRate: 48000, bits: 16, extensible: true })).samples)).toEqual([0.5, -0.25])
    expect(Array.from(parseWav(wavBytes({ channels: [[0.5]], sampleRate: 48000, bits: 32, format: 3, extensible: true })).samples)).toEqual([0.5])
    const mulaw = wavBytes({ channels: [[1, 2]], sampleRate: 8000, bits: 8, format: 7, extensible: true })
    expect(() => parseWav(mulaw, 'phone.wav')).toThrow(/^phone\.wav: the audio is compressed \(µ-law\)/)
  })

  it('averages stereo to mono', () => {
    const audio = parseWav(
      wavBytes({
        channels: [
          [16384, 0, -32768],
          [0, -16384, -32768],
        ],
        sampleRate: 16000,
        bits: 16,
      }),
    )
    expect(audio.channels).toBe(2)
    expect(Array.from(audio.samples)).toEqual([0.25, -0.25, -1])
  })

  it('skips other chunks, including odd-sized ones with their pad byte', () => {
    const extraChunks = [
      { id: 'LIST', body: new Uint8Array([1, 2, 3]) },
      { id: 'junk', body: new Uint8Array(6) },
    ]
    const audio = parseWav(wavBytes({ channels: [[16384, -16384]], sampleRate: 16000, bits: 16, extraChunks }))
    expect(Array.from(audio.samples)).toEqual([0.5, -0.5])
  })

  it('reads to the end when a streaming writer left the data size unknown (0xFFFFFFFF)', () => {
    const audio = parseWav(wavBytes({ channels: [[16384, 0, -16384]], sampleRate: 16000, bits: 16, dataSize: 0xffffffff }))
    expect(Array.from(audio.samples)).toEqual([0.5, 0, -0.5])
  })

  it('reads what espeak-ng writes, to a file and to stdout', requires('espeak-ng'), () => {
    const home = tempHome()
    try {
      const file = join(home.dir, 'yes.wav')
      execFileSync('espeak-ng', ['-w', file, '-v', 'en', 'yes'])
      const audio = parseWav(readFileSync(file), file)
      expect(audio).toMatchObject({ sampleRate: 22050, channels: 1, bitsPerSample: 16 })
      expect(audio.samples.length).toBeGreaterThan(22050 * 0.2)
      expect(rmsOf(audio.samples)).toBeGreaterThan(0.01)
      // --stdout cannot seek back, so its data size is a placeholder; the samples must still be the same.
      const piped = parseWav(execFileSync('espeak-ng', ['--stdout', '-v', 'en', 'yes']), 'stdout')
      expect(piped.samples).toEqual(audio.samples)
    } finally {
      home.remove()
    }
  })
})

describe('parseWav errors name the file and the problem', () => {
  const good = () => wavBytes({ channels: [[1, 2, 3, 4]], sampleRate: 16000, bits: 16 })

  it('wrong magic', () => {
    const error = failure(() => parseWav(new TextEncoder().encode('ID3\u0003 this is an mp3 file, not a wave'), 'song.wav'))
    expect(error.message).toMatch(/^song\.wav: this is not a WAV file/)
    expect(error.file).toBe('song.wav')
    const rifx = good()
    rifx.set([0x52, 0x49, 0x46, 0x58])
    expect(failure(() => parseWav(rifx, 'big.wav')).message).toMatch(/big-endian RIFX/)
    expect(failure(() => parseWav(new Uint8Array(5), 'tiny.wav')).message).toMatch(/not a WAV file/)
  })

  it('a data chunk cut short', () => {
    const bytes = good()
    expect(failure(() => parseWav(bytes.subarray(0, bytes.length - 3), 'cut.wav')).message).toMatch(
      /^cut\.wav: the 'data' chunk announces 8 bytes but only 5 remain \(truncated\)/,
    )
  })

  it('a file ending inside a chunk header or the format chunk', () => {
    expect(failure(() => parseWav(good().subarray(0, 16), 'cut.wav')).message).toMatch(/ends inside a chunk header at byte 12 \(truncated\)/)
    expect(failure(() => parseWav(good().subarray(0, 30), 'cut.wav')).message).toMatch(/'fmt ' chunk announces 16 bytes but only 10 remain/)
  })

  it('compressed and unsupported formats', () => {
    const adpcm = wavBytes({ channels: [[1, 2]], sampleRate: 8000, bits: 16, format: 0x11 })
    expect(failure(() => parseWav(adpcm, 'adpcm.wav')).message).toMatch(/^adpcm\.wav: the audio is compressed \(IMA ADPCM\); only uncompressed PCM/)
    const odd = wavBytes({ channels: [[1, 2]], sampleRate: 8000, bits: 16, format: 0x1234 })
    expect(failure(() => parseWav(odd, 'odd.wav')).message).toMatch(/compressed \(format 0x1234\)/)
    const float16 = wavBytes({ channels: [[1, 2]], sampleRate: 8000, bits: 16, format: 3 })
    expect(failure(() => parseWav(float16, 'f16.wav')).message).toMatch(/16-bit float samples are not supported/)
    const surround = wavBytes({ channels: [[1], [1], [1]], sampleRate: 8000, bits: 16 })
    expect(failure(() => parseWav(surround, 's.wav')).message).toMatch(/3 channels; only mono or stereo/)
  })

  it('empty audio, a missing data chunk, data before the format, a partial frame', () => {
    expect(failure(() => parseWav(wavBytes({ channels: [[]], sampleRate: 16000, bits: 16 }), 'empty.wav')).message).toMatch(
      /^empty\.wav: the file contains no audio samples/,
    )
    const noData = good().slice(0, 36)
    new DataView(noData.buffer).setUint32(4, 28, true)
    expect(failure(() => parseWav(noData, 'x.wav')).message).toMatch(/no 'data' chunk/)
    const dataFirst = new Uint8Array([...good().subarray(0, 12), ...good().subarray(36)])
    expect(failure(() => parseWav(dataFirst, 'x.wav')).message).toMatch(/'data' chunk comes before any 'fmt ' chunk/)
    const stereo = wavBytes({
      channels: [
        [1, 2],
        [3, 4],
      ],
      sampleRate: 16000,
      bits: 16,
      dataSize: 6,
    })
    expect(failure(() => parseWav(stereo, 'x.wav')).message).toMatch(/6 bytes, which is not a whole number of 4-byte sample frames/)
  })
})

describe('resample', () => {
  it('keeps a tone below both Nyquist frequencies (22.05 kHz → 16 kHz and 8 kHz → 16 kHz)', () => {
    for (const from of [22050, 8000]) {
      const out = resample(tone(1000, 0.5, from), from, 16000)
      expect(out.length).toBe(8000)
      const ideal = tone(1000, 0.5, 16000)
      // Away from the edges, where the kernel runs out of input.
      let worst = 0
      for (let i = 200; i < 7800; i++) worst = Math.max(worst, Math.abs(out[i]! - ideal[i]!))
      expect(worst).toBeLessThan(2e-3)
    }
  })

  it('filters out what would alias when downsampling (a 10 kHz tone at 48 kHz → 16 kHz)', () => {
    const out = resample(tone(10000, 0.5, 48000, 0.5), 48000, 16000)
    expect(out.length).toBe(8000)
    // Plain interpolation would fold it to 6 kHz at full strength (RMS ≈ 0.35).
    expect(rmsOf(out, 200, 7800)).toBeLessThan(0.005)
  })

  it('returns a copy at the same rate', () => {
    const x = tone(440, 0.01, 16000)
    const out = resample(x, 16000, 16000)
    expect(out).toEqual(x)
    expect(out).not.toBe(x)
  })

  it('readWavAt reads a real file and brings it to 16 kHz', () => {
    const home = tempHome()
    try {
      const file = join(home.dir, 'tone.wav')
      const samples = tone(500, 1, 44100)
      writeFileSync(file, wavBytes({ channels: [Array.from(samples, (v) => Math.round(v * 32767))], sampleRate: 44100, bits: 16 }))
      const out = readWavAt(readFileSync(file), file)
      expect(out.length).toBe(16000)
      expect(rmsOf(out, 500, 15500)).toBeCloseTo(0.5 / Math.SQRT2, 2)
    } finally {
      home.remove()
    }
  })
})

import { describe, expect, it } from 'vitest'
import { dctMatrix, frameCount, hannWindow, hzToMel, KWS_MFCC, melFilterbank, melToHz, mfccExtractor } from '../../../../src-main/engine/data/mfcc.ts'
import { seededRandom } from '../../../../src-main/engine/random.ts'
import { tone } from './wav-writer.ts'

const extractor = mfccExtractor()
const bins = KWS_MFCC.fftSize / 2 + 1

describe('the Hello-Edge MFCC geometry', () => {
  it('gives 49 frames × 10 coefficients for one second at 16 kHz', () => {
    expect(frameCount(KWS_MFCC)).toBe(49)
    expect(extractor.frames).toBe(49)
    expect(extractor.features(tone(440, 1, 16000)).length).toBe(490)
  })

  it('pads short clips and crops long ones at the end', () => {
    const half = tone(440, 0.5, 16000)
    const padded = new Float32Array(16000)
    padded.set(half)
    expect(extractor.features(half)).toEqual(extractor.features(padded))
    const long = tone(440, 1.5, 16000)
    expect(extractor.features(long)).toEqual(extractor.features(long.slice(0, 16000)))
  })

  it('rejects an FFT smaller than the window and a mel range above Nyquist', () => {
    expect(() => mfccExtractor({ ...KWS_MFCC, fftSize: 512 })).toThrow(/power of two of at least the window/)
    expect(() => mfccExtractor({ ...KWS_MFCC, highHz: 9000 })).toThrow(/below Nyquist \(8000 Hz\)/)
  })
})

describe('the pieces', () => {
  it('HTK mel scale: 1000 Hz is about 1000 mel, and melToHz inverts hzToMel', () => {
    expect(hzToMel(1000)).toBeCloseTo(999.99, 1)
    expect(hzToMel(0)).toBe(0)
    for (const hz of [20, 440, 4000]) expect(melToHz(hzToMel(hz))).toBeCloseTo(hz, 6)
  })

  it('periodic Hann window: 0 at the start, 1 in the middle, symmetric about it', () => {
    const w = hannWindow(640)
    expect(w[0]).toBe(0)
    expect(w[320]).toBeCloseTo(1, 7)
    for (const n of [1, 100, 319]) expect(w[n]).toBeCloseTo(w[640 - n]!, 6)
  })

  it('orthonormal DCT-II: a constant vector has only c0 = value·√N; the full matrix is orthogonal', () => {
    const dct = dctMatrix(40, 10)
    const out = Array.from({ length: 10 }, (_, k) => dct.subarray(k * 40, (k + 1) * 40).reduce((s, m) => s + 3 * m, 0))
    expect(out[0]).toBeCloseTo(3 * Math.sqrt(40), 5)
    for (const c of out.slice(1)) expect(Math.abs(c)).toBeLessThan(1e-5)
    const full = dctMatrix(8, 8)
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        let dot = 0
        for (let n = 0; n < 8; n++) dot += full[i * 8 + n]! * full[j * 8 + n]!
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 6)
      }
    }
  })

  it('mel filterbank: 40 triangles over 20–4000 Hz, none empty, nothing outside the range', () => {
    const bank = melFilterbank(KWS_MFCC)
    expect(bank.length).toBe(40 * bins)
    for (let b = 0; b < 40; b++) {
      const row = bank.subarray(b * bins, (b + 1) * bins)
      expect(Math.max(...row)).toBeGreaterThan(0.3)
      expect(Math.max(...row)).toBeLessThanOrEqual(1)
    }
    const hzOf = (k: number) => (k * 16000) / 1024
    for (let k = 0; k < bins; k++) {
      if (hzOf(k) > 20 && hzOf(k) < 4000) continue
      for (let b = 0; b < 40; b++) expect(bank[b * bins + k]).toBe(0)
    }
  })

  it("one frame's power spectrum equals a naive DFT of the windowed frame", () => {
    const random = seededRandom(3)
    const clip = Float32Array.from({ length: 16000 }, () => random() * 2 - 1)
    const power = extractor.powerSpectrogram(clip)
    expect(power.length).toBe(49 * bins)
    const t = 17
    const w = hannWindow(640)
    for (const k of [0, 1, 37, 256, 511, 512]) {
      let re = 0
      let im = 0
      for (let n = 0; n < 640; n++) {
        const v = clip[t * 320 + n]! * w[n]!
        re += v * Math.cos((2 * Math.PI * k * n) / 1024)
        im -= v * Math.sin((2 * Math.PI * k * n) / 1024)
      }
      expect(power[t * bins + k]! / (re * re + im * im)).toBeCloseTo(1, 4)
    }
  })
})

describe('log mel energies and MFCCs', () => {
  /** The band whose mel centre is nearest to `hz`, computed from the HTK formula alone. */
  function expectedBand(hz: number): number {
    const low = 2595 * Math.log10(1 + 20 / 700)
    const step = (2595 * Math.log10(1 + 4000 / 700) - low) / 41
    let best = 0
    for (let b = 0; b < 40; b++) if (Math.abs(low + (b + 1) * step - hzToMel(hz)) < Math.abs(low + (best + 1) * step - hzToMel(hz))) best = b
    return best
  }

  it("a pure tone's energy lands in the mel band centred nearest to it", () => {
    for (const hz of [150, 1000, 3000]) {
      const mel = extractor.logMel(tone(hz, 1, 16000))
      const frame = mel.subarray(20 * 40, 21 * 40)
      const loudest = frame.indexOf(Math.max(...frame))
      expect(loudest).toBe(expectedBand(hz))
    }
  })

  it('a tone above 4 kHz barely reaches the bands', () => {
    const inside = Math.max(...extractor.logMel(tone(1000, 1, 16000)))
    const outside = Math.max(...extractor.logMel(tone(6000, 1, 16000)))
    expect(inside - outside).toBeGreaterThan(10)
  })

  it('silence sits on the log floor: c0 = √40·log(floor), every other coefficient 0', () => {
    const features = extractor.features(new Float32Array(16000))
    for (let t = 0; t < 49; t++) {
      expect(features[t * 10]).toBeCloseTo(Math.sqrt(40) * Math.log(1e-6), 3)
      for (let c = 1; c < 10; c++) expect(Math.abs(features[t * 10 + c]!)).toBeLessThan(1e-3)
    }
  })

  it('c0 of every frame is the sum of its log mel energies over √40', () => {
    const clip = tone(700, 1, 16000)
    const mel = extractor.logMel(clip)
    const features = extractor.features(clip)
    for (const t of [0, 24, 48]) {
      const sum = mel.subarray(t * 40, (t + 1) * 40).reduce((s, v) => s + v, 0)
      expect(features[t * 10]).toBeCloseTo(sum / Math.sqrt(40), 3)
    }
  })
})

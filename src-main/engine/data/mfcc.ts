// MFCC features as in Hello Edge keyword spotting: 1 s at 16 kHz → 49 frames × 10 coefficients. The pieces
// (window, power spectrum, mel filterbank, DCT) are exported so tests can check each against an independent reference.
import FFT from 'fft.js'

export interface MfccParameters {
  sampleRate: number
  /** Clips are zero-padded or cropped at the end to this many samples. */
  clipSamples: number
  /** Frame length (periodic Hann window) and hop, in samples. */
  windowSamples: number
  hopSamples: number
  /** Each frame is zero-padded to this power of two before the FFT. */
  fftSize: number
  melBands: number
  lowHz: number
  highHz: number
  /** Mel energies below this are raised to it before the natural log, so silence gives log(floor), not −∞. */
  logFloor: number
  /** DCT-II coefficients kept, from c0. */
  coefficients: number
}

/** 16 kHz, 1 s clips, 40 ms / 20 ms frames, 1024-point FFT, 40 HTK-mel bands over 20–4000 Hz, 10 coefficients. */
export const KWS_MFCC: Readonly<MfccParameters> = Object.freeze({
  sampleRate: 16000,
  clipSamples: 16000,
  windowSamples: 640,
  hopSamples: 320,
  fftSize: 1024,
  melBands: 40,
  lowHz: 20,
  highHz: 4000,
  logFloor: 1e-6,
  coefficients: 10,
})

export function frameCount(p: MfccParameters): number {
  return 1 + Math.floor((p.clipSamples - p.windowSamples) / p.hopSamples)
}

/** HTK mel scale. */
export function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700)
}

export function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1)
}

/** Periodic Hann window (as tf.signal.hann_window and TF's spectrogram use). */
export function hannWindow(length: number): Float32Array {
  return Float32Array.from({ length }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length))
}

/** A clip of exactly `length` samples: zero-padded or cropped at the end. */
export function fitToLength(samples: Float32Array, length: number): Float32Array {
  if (samples.length === length) return samples
  const out = new Float32Array(length)
  out.set(samples.subarray(0, length))
  return out
}

/**
 * Triangular filters with peak 1 (HTK style, no area normalisation) on mel-spaced centres, evaluated at the exact
 * frequency of every FFT bin: row b holds band b's weight for bins 0 … fftSize/2, flattened band-major.
 */
export function melFilterbank(p: MfccParameters): Float32Array {
  const bins = p.fftSize / 2 + 1
  const low = hzToMel(p.lowHz)
  const high = hzToMel(p.highHz)
  const edges = Array.from({ length: p.melBands + 2 }, (_, i) => melToHz(low + ((high - low) * i) / (p.melBands + 1)))
  const bank = new Float32Array(p.melBands * bins)
  for (let b = 0; b < p.melBands; b++) {
    const [left, center, right] = [edges[b]!, edges[b + 1]!, edges[b + 2]!]
    for (let k = 0; k < bins; k++) {
      const hz = (k * p.sampleRate) / p.fftSize
      const weight = hz <= left || hz >= right ? 0 : hz <= center ? (hz - left) / (center - left) : (right - hz) / (right - center)
      bank[b * bins + k] = weight
    }
  }
  return bank
}

/** Orthonormal DCT-II, first `keep` rows of the size×size matrix, row-major: y = M x. */
export function dctMatrix(size: number, keep: number): Float32Array {
  const m = new Float32Array(keep * size)
  for (let k = 0; k < keep; k++) {
    const scale = Math.sqrt((k === 0 ? 1 : 2) / size)
    for (let n = 0; n < size; n++) m[k * size + n] = scale * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * size))
  }
  return m
}

/** Row-major [rows × inner] · [inner × cols]ᵀ given as [cols × inner] → [rows × cols]. */
function multiplyTransposed(a: Float32Array, rows: number, inner: number, b: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0
      for (let i = 0; i < inner; i++) sum += a[r * inner + i]! * b[c * inner + i]!
      out[r * cols + c] = sum
    }
  }
  return out
}

export interface MfccExtractor {
  readonly parameters: Readonly<MfccParameters>
  readonly frames: number
  /** |FFT|² of every windowed frame of a clip: [frames × (fftSize/2 + 1)], frame-major. */
  powerSpectrogram(clip: Float32Array): Float32Array
  /** Log mel energies: [frames × melBands]. */
  logMel(clip: Float32Array): Float32Array
  /** MFCCs: [frames × coefficients], frame-major (time is the first axis of the [49, 10, 1] sample). */
  features(samples: Float32Array): Float32Array
}

/** Precomputes the window, filterbank and DCT once; the returned extractor is reused for every clip. */
export function mfccExtractor(parameters: MfccParameters = KWS_MFCC): MfccExtractor {
  const p = Object.freeze({ ...parameters })
  if (!Number.isInteger(Math.log2(p.fftSize)) || p.fftSize < p.windowSamples)
    throw new Error(`MFCC fftSize ${p.fftSize} must be a power of two of at least the window (${p.windowSamples}).`)
  if (p.highHz > p.sampleRate / 2 || p.lowHz >= p.highHz)
    throw new Error(`MFCC mel range ${p.lowHz}–${p.highHz} Hz must lie below Nyquist (${p.sampleRate / 2} Hz).`)
  const frames = frameCount(p)
  const bins = p.fftSize / 2 + 1
  const window = hannWindow(p.windowSamples)
  const bank = melFilterbank(p)
  const dct = dctMatrix(p.melBands, p.coefficients)
  const fft = new FFT(p.fftSize)
  const padded = new Float64Array(p.fftSize)
  const spectrum = fft.createComplexArray() as number[]

  const powerSpectrogram = (clip: Float32Array): Float32Array => {
    const input = fitToLength(clip, p.clipSamples)
    const power = new Float32Array(frames * bins)
    for (let t = 0; t < frames; t++) {
      const start = t * p.hopSamples
      for (let n = 0; n < p.windowSamples; n++) padded[n] = input[start + n]! * window[n]!
      fft.realTransform(spectrum, padded)
      for (let k = 0; k < bins; k++) {
        const re = spectrum[2 * k]!
        const im = spectrum[2 * k + 1]!
        power[t * bins + k] = re * re + im * im
      }
    }
    return power
  }

  const logMel = (clip: Float32Array): Float32Array => {
    const mel = multiplyTransposed(powerSpectrogram(clip), frames, bins, bank, p.melBands)
    for (let i = 0; i < mel.length; i++) mel[i] = Math.log(Math.max(mel[i]!, p.logFloor))
    return mel
  }

  return {
    parameters: p,
    frames,
    powerSpectrogram,
    logMel,
    features: (samples) => multiplyTransposed(logMel(samples), frames, p.melBands, dct, p.coefficients),
  }
}

// Makes resources/datasets/keywords.npz (+ keywords.json): MFCCs of keywords synthesised with espeak-ng under random
// voices, pitch, speed, time shift, channel colour and background noise, seeded. Run: node --import tsx scripts/make-keywords.ts
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { encodeNpz } from '../src-main/engine/data/npy.ts'
import { KWS_MFCC, mfccExtractor } from '../src-main/engine/data/mfcc.ts'
import { splitOf, type WavSplitName } from '../src-main/engine/data/wav-folder.ts'
import { readWavAt } from '../src-main/engine/data/wav.ts'
import { seededRandom } from '../src-main/engine/random.ts'
import { resourcePath } from '../src-main/paths.ts'

const SEED = 20240611
const CLIPS_PER_CLASS = 250
const KEYWORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']
const CLASS_NAMES = ['silence', 'unknown', ...KEYWORDS]
// The auxiliary words of Speech Commands, none of them a keyword.
const UNKNOWN_WORDS = [
  'bed',
  'bird',
  'cat',
  'dog',
  'happy',
  'house',
  'marvin',
  'sheila',
  'tree',
  'wow',
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'learn',
  'follow',
  'forward',
  'backward',
  'visual',
]
const VOICES = ['en', 'en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029']
const VARIANTS = [
  'm1',
  'm2',
  'm3',
  'm4',
  'm5',
  'm6',
  'm7',
  'm8',
  'f1',
  'f2',
  'f3',
  'f4',
  'f5',
  'klatt',
  'klatt2',
  'klatt3',
  'croak',
  'whisper',
  'whisperf',
  'grandpa',
  'grandma',
  'adam',
  'Annie',
  'david',
  'linda',
  'max',
  'steph',
  'Andy',
  'edward',
  'john',
]
const NOISES = ['white', 'pink', 'brown', 'hum'] as const
const SNR_DB = [5, 30] as const
const RATE = KWS_MFCC.sampleRate
const LENGTH = KWS_MFCC.clipSamples

const random = seededRandom(SEED)
const uniform = (lo: number, hi: number) => lo + (hi - lo) * random()
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())

/** A speaker is a voice + variant with its own typical pitch and speed; the split follows the speaker. */
interface Speaker {
  id: string
  voice: string
  pitch: number
  speed: number
}
const SPEAKERS: Speaker[] = VOICES.flatMap((voice) =>
  VARIANTS.map((variant) => ({ id: `${voice}+${variant}`, voice: `${voice}+${variant}`, pitch: uniform(25, 75), speed: uniform(130, 190) })),
)

function rms(x: Float32Array): number {
  let sum = 0
  for (const v of x) sum += v * v
  return Math.sqrt(sum / Math.max(1, x.length))
}

function scaled(x: Float32Array, gain: number): Float32Array {
  return x.map((v) => v * gain)
}

function noise(kind: (typeof NOISES)[number], length: number): Float32Array {
  const out = new Float32Array(length)
  if (kind === 'white') for (let i = 0; i < length; i++) out[i] = gaussian()
  if (kind === 'pink') {
    // Paul Kellet's economy pink filter.
    let [b0, b1, b2] = [0, 0, 0]
    for (let i = 0; i < length; i++) {
      const w = gaussian()
      b0 = 0.99765 * b0 + w * 0.099046
      b1 = 0.963 * b1 + w * 0.2965164
      b2 = 0.57 * b2 + w * 1.0526913
      out[i] = b0 + b1 + b2 + w * 0.1848
    }
  }
  if (kind === 'brown') {
    let level = 0
    for (let i = 0; i < length; i++) out[i] = level = 0.995 * level + gaussian()
  }
  if (kind === 'hum') {
    const mains = pick([50, 60])
    const phases = [random(), random(), random()].map((p) => p * 2 * Math.PI)
    for (let i = 0; i < length; i++) {
      const t = i / RATE
      out[i] = phases.reduce((sum, phase, h) => sum + Math.sin(2 * Math.PI * mains * (h + 1) * t + phase) / (h + 1), 0) + 0.1 * gaussian()
    }
  }
  return scaled(out, 1 / (rms(out) || 1))
}

/** A mild random channel: first-order low-pass or high-pass, or none. */
function colour(x: Float32Array): Float32Array {
  const kind = pick(['none', 'lowpass', 'highpass'] as const)
  if (kind === 'none') return x
  const cutoff = kind === 'lowpass' ? uniform(1500, 6000) : uniform(80, 400)
  const a = Math.exp((-2 * Math.PI * cutoff) / RATE)
  const out = new Float32Array(x.length)
  let low = 0
  for (let i = 0; i < x.length; i++) {
    low = (1 - a) * x[i]! + a * low
    out[i] = kind === 'lowpass' ? low : x[i]! - low
  }
  return out
}

function speak(word: string, speaker: Speaker): Float32Array {
  const pitch = Math.round(Math.min(99, Math.max(0, speaker.pitch + uniform(-12, 12))))
  const speed = Math.round(speaker.speed + uniform(-25, 25))
  const wav = execFileSync('espeak-ng', ['--stdout', '-v', speaker.voice, '-p', String(pitch), '-s', String(speed), word], { maxBuffer: 1 << 24 })
  return readWavAt(wav, `espeak-ng '${word}' (${speaker.voice})`, RATE)
}

/** The spoken part of a clip, without espeak's leading and trailing silence. */
function trimmed(x: Float32Array): Float32Array {
  const peak = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
  const threshold = 0.02 * peak
  let first = 0
  let last = x.length - 1
  while (first < last && Math.abs(x[first]!) < threshold) first++
  while (last > first && Math.abs(x[last]!) < threshold) last--
  return x.slice(first, last + 1)
}

/** The word at a random place in the 1 s window (cropped at a random place if longer), coloured, with noise. */
function clipOf(word: string, speaker: Speaker): Float32Array {
  let speech = trimmed(speak(word, speaker))
  if (speech.length > LENGTH) {
    const start = Math.floor(random() * (speech.length - LENGTH))
    speech = speech.slice(start, start + LENGTH)
  }
  speech = scaled(colour(speech), uniform(0.1, 0.8) / (rms(speech) * 3 || 1))
  const clip = new Float32Array(LENGTH)
  clip.set(speech, Math.floor(random() * (LENGTH - speech.length + 1)))
  if (random() < 0.1) return clip
  const snr = uniform(...SNR_DB)
  const background = noise(pick(NOISES), LENGTH)
  const gain = rms(speech) / 10 ** (snr / 20)
  return clip.map((v, i) => v + gain * background[i]!)
}

/** Background only: one or two noise kinds at a level from nearly silent to loud. */
function silenceClip(): Float32Array {
  const clip = scaled(noise(pick(NOISES), LENGTH), 10 ** uniform(-4, -1))
  if (random() < 0.5) return clip
  const second = scaled(noise(pick(NOISES), LENGTH), 10 ** uniform(-4, -1.5))
  return clip.map((v, i) => v + second[i]!)
}

const extractor = mfccExtractor(KWS_MFCC)
const size = extractor.frames * KWS_MFCC.coefficients
const splits: Record<WavSplitName, { x: Float32Array[]; y: number[] }> = { train: { x: [], y: [] }, validation: { x: [], y: [] }, test: { x: [], y: [] } }
const started = performance.now()
CLASS_NAMES.forEach((className, label) => {
  for (let i = 0; i < CLIPS_PER_CLASS; i++) {
    const speaker = pick(SPEAKERS)
    // Clip names follow Speech Commands (<speaker>_nohash_<n>), so one speaker's clips share a split.
    const name = className === 'silence' ? `noise${i % 40}_nohash_${i}` : `${speaker.id}_nohash_${i}`
    const clip = className === 'silence' ? silenceClip() : clipOf(className === 'unknown' ? pick(UNKNOWN_WORDS) : className, speaker)
    const split = splits[splitOf(name)]
    split.x.push(extractor.features(clip))
    split.y.push(label)
  }
  console.log(`${className}: ${CLIPS_PER_CLASS} clips (${((performance.now() - started) / 1000).toFixed(1)} s)`)
})

const arrays: Parameters<typeof encodeNpz>[0] = {}
const counts: Record<string, number[]> = {}
for (const [split, key] of [
  ['train', 'train'],
  ['validation', 'val'],
  ['test', 'test'],
] as const) {
  const { x, y } = splits[split]
  const values = new Float32Array(x.length * size)
  x.forEach((features, i) => values.set(features, i * size))
  arrays[`x_${key}`] = { shape: [x.length, extractor.frames, KWS_MFCC.coefficients], data: values }
  arrays[`y_${key}`] = { shape: [y.length], data: Int32Array.from(y) }
  counts[split] = CLASS_NAMES.map((_, label) => y.filter((l) => l === label).length)
  console.log(`${split}: ${y.length} clips`)
}

const folder = resourcePath('datasets')
mkdirSync(folder, { recursive: true })
const npz = encodeNpz(arrays)
writeFileSync(resourcePath('datasets', 'keywords.npz'), npz)
const description = {
  classNames: CLASS_NAMES,
  features: {
    ...KWS_MFCC,
    frames: extractor.frames,
    layout: '[clip, frame, coefficient]',
    window: 'periodic Hann',
    mel: 'HTK, triangular filters with peak 1',
    spectrum: '|FFT|^2',
    log: 'natural log of max(energy, logFloor)',
    dct: 'DCT-II, orthonormal',
  },
  synthetic: true,
  made_by: 'scripts/make-keywords.ts',
  seed: SEED,
  source: `espeak-ng ${execFileSync('espeak-ng', ['--version']).toString().trim()}`,
  voices: VOICES,
  variants: VARIANTS,
  unknownWords: UNKNOWN_WORDS,
  augmentation: {
    timeShift: 'uniform within the 1 s window',
    noise: NOISES,
    snrDb: SNR_DB,
    cleanFraction: 0.1,
    channel: 'none, 1st-order low-pass 1.5–6 kHz or high-pass 80–400 Hz',
  },
  split: 'SHA-1 of the speaker (voice+variant) as in Speech Commands, 80/10/10',
  counts,
}
writeFileSync(resourcePath('datasets', 'keywords.json'), `${JSON.stringify(description, null, 2)}\n`)
console.log(`keywords.npz: ${(npz.length / 1e6).toFixed(2)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`)

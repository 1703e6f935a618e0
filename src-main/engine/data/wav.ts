// RIFF/WAVE reader: PCM 8/16/24/32-bit integers or 32/64-bit floats, mono or stereo, averaged to one channel in [-1, 1],
// and a windowed-sinc resampler to bring any sample rate to the 16 kHz the keyword features use.
import { DataFileError } from './errors.ts'
import { MAX_WAV_RATE, MIN_WAV_RATE } from './limits.ts'

export interface WavAudio {
  /** One channel (stereo is averaged), values in [-1, 1]. */
  samples: Float32Array
  sampleRate: number
  channels: number
  bitsPerSample: number
  encoding: 'pcm' | 'float'
}

const PCM = 0x0001
const IEEE_FLOAT = 0x0003
const EXTENSIBLE = 0xfffe
const COMPRESSED_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MP3',
}
// Streaming writers (ffmpeg pipes, espeak-ng --stdout) cannot seek back, so they leave these in the data size.
const UNKNOWN_LENGTHS = new Set([0xffffffff, 0x7ffff000])

function text(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!)
}

interface Format {
  encoding: 'pcm' | 'float'
  channels: number
  sampleRate: number
  bitsPerSample: number
  blockAlign: number
}

function readFormat(view: DataView, at: number, size: number, file: string): Format {
  if (size < 16) throw new DataFileError(file, `the 'fmt ' chunk is ${size} bytes long; a WAV format chunk needs at least 16.`)
  let tag = view.getUint16(at, true)
  const channels = view.getUint16(at + 2, true)
  const sampleRate = view.getUint32(at + 4, true)
  const blockAlign = view.getUint16(at + 12, true)
  const bitsPerSample = view.getUint16(at + 14, true)
  // WAVE_FORMAT_EXTENSIBLE keeps the real format tag in the first two bytes of its sub-format GUID.
  if (tag === EXTENSIBLE && size >= 26) tag = view.getUint16(at + 24, true)
  if (tag !== PCM && tag !== IEEE_FLOAT) {
    const name = COMPRESSED_NAMES[tag] ?? `format 0x${tag.toString(16).padStart(4, '0')}`
    throw new DataFileError(
      file,
      `the audio is compressed (${name}); only uncompressed PCM or float WAV files can be read. Convert it, e.g. with 'sox in.wav -e signed -b 16 out.wav'.`,
    )
  }
  const encoding = tag === PCM ? 'pcm' : 'float'
  const supported = encoding === 'pcm' ? [8, 16, 24, 32] : [32, 64]
  if (!supported.includes(bitsPerSample)) {
    throw new DataFileError(
      file,
      `${bitsPerSample}-bit ${encoding === 'pcm' ? 'integer' : 'float'} samples are not supported (${encoding === 'pcm' ? 'integer PCM must be 8, 16, 24 or 32-bit' : 'float must be 32 or 64-bit'}).`,
    )
  }
  if (channels !== 1 && channels !== 2) throw new DataFileError(file, `the audio has ${channels} channels; only mono or stereo files can be read.`)
  // A rate of 1 Hz would make resampling to 16 kHz take minutes for a few bytes; 4 GHz is no audio at all.
  if (sampleRate < MIN_WAV_RATE || sampleRate > MAX_WAV_RATE) {
    throw new DataFileError(
      file,
      `the format chunk gives a sample rate of ${sampleRate} Hz; audio from ${MIN_WAV_RATE.toLocaleString('en-US')} to ${MAX_WAV_RATE.toLocaleString('en-US')} Hz is read.`,
    )
  }
  if (blockAlign !== channels * (bitsPerSample / 8)) {
    throw new DataFileError(
      file,
      `the format chunk is inconsistent: ${channels} channel(s) of ${bitsPerSample} bits need ${channels * (bitsPerSample / 8)}-byte frames, it says ${blockAlign}.`,
    )
  }
  return { encoding, channels, sampleRate, bitsPerSample, blockAlign }
}

function sampleReader(format: Format, view: DataView): (offset: number) => number {
  if (format.encoding === 'float') return format.bitsPerSample === 32 ? (o) => view.getFloat32(o, true) : (o) => view.getFloat64(o, true)
  switch (format.bitsPerSample) {
    case 8:
      return (o) => (view.getUint8(o) - 128) / 128 // 8-bit WAV is unsigned with 128 as zero.
    case 16:
      return (o) => view.getInt16(o, true) / 32768
    case 24:
      return (o) => (view.getUint8(o) | (view.getUint8(o + 1) << 8) | (view.getInt8(o + 2) << 16)) / 8388608
    default:
      return (o) => view.getInt32(o, true) / 2147483648
  }
}

/**
 * Parses a WAV file held in memory; `file` names it in errors. `maxFrames` (given the file's sample rate) decodes only
 * the start of a long file; the whole file is still checked.
 */
export function parseWav(bytes: Uint8Array, file = 'WAV file', maxFrames: (sampleRate: number) => number = () => Infinity): WavAudio {
  if (bytes.length < 12 || text(bytes, 0) !== 'RIFF' || text(bytes, 8) !== 'WAVE') {
    const hint = bytes.length >= 4 && text(bytes, 0) === 'RIFX' ? ' (it is a big-endian RIFX file, which is not supported)' : ''
    throw new DataFileError(file, `this is not a WAV file: it must start with 'RIFF' and 'WAVE'${hint}.`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let format: Format | null = null
  let at = 12
  while (at < bytes.length) {
    if (at + 8 > bytes.length) throw new DataFileError(file, `the file ends inside a chunk header at byte ${at} (truncated).`)
    const id = text(bytes, at)
    let size = view.getUint32(at + 4, true)
    const body = at + 8
    if (id === 'data' && body + size > bytes.length && UNKNOWN_LENGTHS.has(size)) size = bytes.length - body
    if (body + size > bytes.length) {
      throw new DataFileError(file, `the '${id}' chunk announces ${size} bytes but only ${bytes.length - body} remain (truncated).`)
    }
    if (id === 'fmt ') format = readFormat(view, body, size, file)
    if (id === 'data') {
      if (!format) throw new DataFileError(file, "the 'data' chunk comes before any 'fmt ' chunk, so the sample format is unknown.")
      return decode(view, body, size, format, file, maxFrames(format.sampleRate))
    }
    at = body + size + (size % 2) // Chunks are padded to an even length.
  }
  throw new DataFileError(file, format ? "there is no 'data' chunk (no audio)." : "there is no 'fmt ' chunk and no 'data' chunk.")
}

function decode(view: DataView, at: number, size: number, format: Format, file: string, maxFrames: number): WavAudio {
  if (size % format.blockAlign !== 0) {
    throw new DataFileError(file, `the 'data' chunk holds ${size} bytes, which is not a whole number of ${format.blockAlign}-byte sample frames (truncated).`)
  }
  if (size === 0) throw new DataFileError(file, 'the file contains no audio samples (its data chunk is empty).')
  const frames = Math.min(size / format.blockAlign, maxFrames)
  const read = sampleReader(format, view)
  const bytesPerSample = format.bitsPerSample / 8
  const samples = new Float32Array(frames)
  for (let i = 0; i < frames; i++) {
    const frame = at + i * format.blockAlign
    let sum = 0
    for (let c = 0; c < format.channels; c++) sum += read(frame + c * bytesPerSample)
    samples[i] = sum / format.channels
  }
  return { samples, sampleRate: format.sampleRate, channels: format.channels, bitsPerSample: format.bitsPerSample, encoding: format.encoding }
}

/** Half-width of the resampling kernel in zero crossings of the lower rate's sinc. */
const SINC_HALF_WIDTH = 16

/**
 * Band-limited resampling: each output sample is a Hann-windowed sinc interpolation of the input, with the cutoff at
 * the lower of the two Nyquist frequencies (so downsampling filters out what would alias). Same rate: a copy.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples.slice()
  const ratio = toRate / fromRate
  const length = Math.max(1, Math.round(samples.length * ratio))
  const out = new Float32Array(length)
  // Cutoff in cycles per input sample; the kernel spans SINC_HALF_WIDTH zero crossings either side.
  const cutoff = Math.min(1, ratio) * 0.5
  const halfWidth = SINC_HALF_WIDTH / (2 * cutoff)
  for (let i = 0; i < length; i++) {
    const center = i / ratio
    const first = Math.max(0, Math.ceil(center - halfWidth))
    const last = Math.min(samples.length - 1, Math.floor(center + halfWidth))
    let sum = 0
    for (let n = first; n <= last; n++) {
      const t = n - center
      const x = 2 * cutoff * t
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)
      const window = 0.5 + 0.5 * Math.cos((Math.PI * t) / halfWidth)
      sum += samples[n]! * 2 * cutoff * sinc * window
    }
    out[i] = sum
  }
  return out
}

/** Input samples beyond a span that still reach its last output sample through the resampling kernel. */
function kernelReach(fromRate: number, toRate: number): number {
  return Math.ceil(SINC_HALF_WIDTH / Math.min(1, toRate / fromRate)) + 1
}

/**
 * A WAV file's audio as one channel at `rate` Hz (16 kHz unless told). With `seconds`, only that much from the start is
 * decoded and resampled (what follows is cut anyway), so a long file costs no more than a short one.
 */
export function readWavAt(bytes: Uint8Array, file: string, rate = 16000, seconds = Infinity): Float32Array {
  const audio = parseWav(bytes, file, (fromRate) => Math.ceil(seconds * fromRate) + kernelReach(fromRate, rate))
  return resample(audio.samples, audio.sampleRate, rate)
}

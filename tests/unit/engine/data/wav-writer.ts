// Builds WAV files byte by byte for the tests (independent of the reader): any format tag, bit depth, channel count.

export interface WavSpec {
  /** Per channel, the integer codes (PCM) or floats to store; all channels equally long. */
  channels: number[][]
  sampleRate: number
  bits: number
  format?: number
  /** Extra chunks placed before 'fmt ' (e.g. LIST), to check they are skipped. */
  extraChunks?: { id: string; body: Uint8Array }[]
  /** Writes a 40-byte WAVE_FORMAT_EXTENSIBLE format chunk whose sub-format GUID starts with `format`. */
  extensible?: boolean
  /** Overrides the size field of the data chunk. */
  dataSize?: number
}

function chunk(id: string, body: Uint8Array, sizeField = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length % 2))
  out.set([...id].map((c) => c.charCodeAt(0)))
  new DataView(out.buffer).setUint32(4, sizeField, true)
  out.set(body, 8)
  return out
}

export function wavBytes(spec: WavSpec): Uint8Array {
  const format = spec.format ?? 1
  const channelCount = spec.channels.length
  const bytesPerSample = spec.bits / 8
  const frames = spec.channels[0]!.length
  const fmt = new DataView(new ArrayBuffer(spec.extensible ? 40 : 16))
  fmt.setUint16(0, spec.extensible ? 0xfffe : format, true)
  if (spec.extensible) {
    fmt.setUint16(16, 22, true)
    fmt.setUint16(18, spec.bits, true)
    fmt.setUint16(24, format, true)
  }
  fmt.setUint16(2, channelCount, true)
  fmt.setUint32(4, spec.sampleRate, true)
  fmt.setUint32(8, spec.sampleRate * channelCount * bytesPerSample, true)
  fmt.setUint16(12, channelCount * bytesPerSample, true)
  fmt.setUint16(14, spec.bits, true)
  const data = new DataView(new ArrayBuffer(frames * channelCount * bytesPerSample))
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channelCount; c++) {
      const at = (i * channelCount + c) * bytesPerSample
      const v = spec.channels[c]![i]!
      if (format === 3 && spec.bits === 32) data.setFloat32(at, v, true)
      else if (format === 3 && spec.bits > 32) data.setFloat64(at, v, true)
      else if (spec.bits === 8) data.setUint8(at, v)
      else if (spec.bits === 16) data.setInt16(at, v, true)
      else if (spec.bits === 24) {
        data.setUint8(at, v & 0xff)
        data.setUint8(at + 1, (v >> 8) & 0xff)
        data.setUint8(at + 2, (v >> 16) & 0xff)
      } else data.setInt32(at, v, true)
    }
  }
  const chunks = [
    ...(spec.extraChunks ?? []).map((c) => chunk(c.id, c.body)),
    chunk('fmt ', new Uint8Array(fmt.buffer)),
    chunk('data', new Uint8Array(data.buffer), spec.dataSize),
  ]
  const body = new Uint8Array(4 + chunks.reduce((n, c) => n + c.length, 0))
  body.set([...'WAVE'].map((c) => c.charCodeAt(0)))
  let at = 4
  for (const c of chunks) {
    body.set(c, at)
    at += c.length
  }
  return chunk('RIFF', body)
}

/** 16-bit mono PCM of float samples in [-1, 1]. */
export function pcm16(samples: ArrayLike<number>, sampleRate: number): Uint8Array {
  return wavBytes({ channels: [Array.from(samples, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))))], sampleRate, bits: 16 })
}

export function tone(hz: number, seconds: number, sampleRate: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * sampleRate) }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / sampleRate))
}

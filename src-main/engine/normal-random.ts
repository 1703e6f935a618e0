// Seeded standard-normal numbers, fast enough to fill noise tensors of whole test batches: a keyed sfc32 generator and
// Marsaglia–Tsang's ziggurat, so the same key always gives the same numbers whatever was drawn before.

/** A 32-bit hash of a key's parts (FNV-1a, then a murmur3 finaliser), to seed one stream per (seed, point, repeat, …). */
export function hashKey(parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5
  const mix = (byte: number): void => {
    h ^= byte & 0xff
    h = Math.imul(h, 0x01000193)
  }
  for (const part of parts) {
    const text = typeof part === 'number' ? `n${part}` : `s${part}`
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i)
      mix(code)
      mix(code >>> 8)
    }
    mix(0x1f) // separator, so ['ab','c'] and ['a','bc'] differ
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

// Ziggurat tables (128 layers), computed once as in Marsaglia & Tsang (2000).
const R = 3.442619855899
const KN = new Float64Array(128)
const WN = new Float64Array(128)
const FN = new Float64Array(128)
{
  const vn = 9.91256303526217e-3
  const m1 = 2147483648
  let dn = R
  let tn = dn
  const q = vn / Math.exp(-0.5 * dn * dn)
  KN[0] = (dn / q) * m1
  KN[1] = 0
  WN[0] = q / m1
  WN[127] = dn / m1
  FN[0] = 1
  FN[127] = Math.exp(-0.5 * dn * dn)
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)))
    KN[i + 1] = (dn / tn) * m1
    tn = dn
    FN[i] = Math.exp(-0.5 * dn * dn)
    WN[i] = dn / m1
  }
}

/** Fills `out` with independent N(0, 1) values drawn from the stream named by `key`. */
export function fillNormals(out: Float32Array, key: number): Float32Array {
  let a = key | 0
  let b = (key ^ 0x9e3779b9) | 0
  let c = (key ^ 0x85ebca6b) | 0
  let d = 1
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t
  }
  const uniform = (): number => ((next() >>> 0) + 0.5) / 4294967296
  // Discard the first outputs so that nearby keys decorrelate.
  for (let i = 0; i < 12; i++) next()
  const n = out.length
  for (let i = 0; i < n; i++) {
    let hz = next()
    let iz = hz & 127
    if (Math.abs(hz) < KN[iz]!) {
      out[i] = hz * WN[iz]!
      continue
    }
    for (;;) {
      const x = hz * WN[iz]!
      if (iz === 0) {
        // The base layer's tail beyond R, by Marsaglia's exponential rejection.
        let tail: number
        let y: number
        do {
          tail = -Math.log(uniform()) / R
          y = -Math.log(uniform())
        } while (y + y < tail * tail)
        out[i] = hz > 0 ? R + tail : -R - tail
        break
      }
      if (FN[iz]! + uniform() * (FN[iz - 1]! - FN[iz]!) < Math.exp(-0.5 * x * x)) {
        out[i] = x
        break
      }
      hz = next()
      iz = hz & 127
      if (Math.abs(hz) < KN[iz]!) {
        out[i] = hz * WN[iz]!
        break
      }
    }
  }
  return out
}

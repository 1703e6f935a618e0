import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { zipSync } from 'fflate'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeNpy, encodeNpz, parseNpy, parseNpz, type NpyData } from '../../../../src-main/engine/data/npy.ts'
import { readNpzDataset } from '../../../../src-main/engine/data/sources.ts'
import { tempHome } from '../../../helpers/temp-home.ts'
import { failure } from '../../../helpers/data-file-error.ts'

let home: ReturnType<typeof tempHome>
beforeEach(() => (home = tempHome()))
afterEach(() => home.remove())

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'))
// Written by NumPy 2.4: np.save(np.arange(6, dtype='<i2').reshape(2, 3)) and np.save(np.array([1.5, -2.25])).
const NUMPY_I2 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGkyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAEAAgADAAQABQA='
const NUMPY_F8 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAALA'
// np.savez_compressed with x_train (2,2,2) uint8, y_train [0, 1] int64, x_test (1,2,2) uint8, y_test [1] int64 (Zip64 headers).
const NUMPY_NPZ =
  'UEsDBC0AAAAIAAAAIQBhYP21//////////8LABQAeF90cmFpbi5ucHkBABAAiAAAAAAAAABPAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CiCkqaNQq0Ae4GJgZGJmYWVjBwBQSwMELQAAAAgAAAAhAH5q+8n//////////wsAFAB5X3RyYWluLm5weQEAEACQAAAAAAAAAEkAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNpoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaRjqaOgq1ChQALgYoYITSAFBLAwQtAAAACAAAACEASNp2av//////////CgAUAHhfdGVzdC5ucHkBABAAhAAAAAAAAABMAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GoY6CkZApKmjUKtAHuBiYGRiBgBQSwMELQAAAAgAAAAhAD6aFF7//////////woAFAB5X3Rlc3QubnB5AQAQAIgAAAAAAAAASAAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mhrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RqGOpo6CrUKFAAuRgYIAABQSwECLQMtAAAACAAAACEAYWD9tU8AAACIAAAACwAAAAAAAAAAAAAAgAEAAAAAeF90cmFpbi5ucHlQSwECLQMtAAAACAAAACEAfmr7yUkAAACQAAAACwAAAAAAAAAAAAAAgAGMAAAAeV90cmFpbi5ucHlQSwECLQMtAAAACAAAACEASNp2akwAAACEAAAACgAAAAAAAAAAAAAAgAESAQAAeF90ZXN0Lm5weVBLAQItAy0AAAAIAAAAIQA+mhReSAAAAIgAAAAKAAAAAAAAAAAAAACAAZoBAAB5X3Rlc3QubnB5UEsFBgAAAAAEAAQA4gAAAB4CAAAAAA=='

/** A .npy with the given header dictionary text and data bytes (version 1). */
function npyWithHeader(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const header = new TextEncoder().encode(`${dict}\n`)
  const prefix = major === 1 ? 10 : 12
  const out = new Uint8Array(prefix + header.length + data.length)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0])
  const view = new DataView(out.buffer)
  if (major === 1) view.setUint16(8, header.length, true)
  else view.setUint32(8, header.length, true)
  out.set(header, prefix)
  out.set(data, prefix + header.length)
  return out
}

describe('parseNpy and encodeNpy', () => {
  it('round-trip every supported dtype', () => {
    const cases: [string, NpyData][] = [
      ['<f4', Float32Array.of(1.5, -2, 3.25, 0, 1e-8, 7)],
      ['<f8', Float64Array.of(Math.PI, -1e300, 0, 1, 2, 3)],
      ['|u1', Uint8Array.of(0, 1, 127, 128, 254, 255)],
      ['|i1', Int8Array.of(-128, -1, 0, 1, 126, 127)],
      ['<i2', Int16Array.of(-32768, -1, 0, 1, 2, 32767)],
      ['<i4', Int32Array.of(-(2 ** 31), -1, 0, 1, 2, 2 ** 31 - 1)],
      ['<i8', BigInt64Array.of(-(2n ** 63n), -1n, 0n, 1n, 2n, 2n ** 62n)],
    ]
    for (const [dtype, data] of cases) {
      const bytes = encodeNpy([2, 3], data)
      // NumPy aligns the data to 64 bytes.
      expect((bytes.length - data.byteLength) % 64).toBe(0)
      const parsed = parseNpy(bytes)
      expect(parsed.dtype).toBe(dtype)
      expect(parsed.shape).toEqual([2, 3])
      expect(parsed.data).toEqual(data)
    }
    expect(parseNpy(encodeNpy([4], Int32Array.of(1, 2, 3, 4))).shape).toEqual([4])
  })

  it('reads files written by NumPy, and version 2 headers', () => {
    const i2 = parseNpy(fromBase64(NUMPY_I2))
    expect(i2.shape).toEqual([2, 3])
    expect(Array.from(i2.data as Int16Array)).toEqual([0, 1, 2, 3, 4, 5])
    expect(Array.from(parseNpy(fromBase64(NUMPY_F8)).data as Float64Array)).toEqual([1.5, -2.25])
    const v2 = npyWithHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(Int32Array.of(7, -7).buffer), 2)
    expect(Array.from(parseNpy(v2).data as Int32Array)).toEqual([7, -7])
  })

  it('names the file and the problem for malformed input', () => {
    const data = new Uint8Array(Float32Array.of(1, 2).buffer)
    expect(failure(() => parseNpy(new TextEncoder().encode('PK\u0003\u0004 a zip, not an array'), 'a.npy')).message).toMatch(
      /^a\.npy: this is not a \.npy array \(wrong magic bytes\)/,
    )
    const good = encodeNpy([2], Float32Array.of(1, 2))
    expect(failure(() => parseNpy(good.subarray(0, 40), 'a.npy')).message).toMatch(/^a\.npy: the file ends inside its header \(truncated\)/)
    expect(failure(() => parseNpy(good.subarray(0, good.length - 1), 'a.npy')).message).toMatch(/truncated: shape \(2\) needs 8 data bytes, the file has 7/)
    expect(failure(() => parseNpy(npyWithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data), 'c.npy')).message).toMatch(
      /^c\.npy: unsupported dtype '<c8'/,
    )
    expect(failure(() => parseNpy(npyWithHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data), 'b.npy')).message).toMatch(
      /unsupported dtype '>f4'.*little-endian/,
    )
    expect(failure(() => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data), 'f.npy')).message).toMatch(
      /^f\.npy: Fortran-ordered arrays are not supported; save with np\.ascontiguousarray/,
    )
    expect(failure(() => parseNpy(npyWithHeader('{garbage}', data), 'g.npy')).message).toMatch(/the \.npy header cannot be read/)
  })
})

describe('parseNpz and encodeNpz', () => {
  it('round-trip named arrays, and skip entries that are not .npy', () => {
    const bytes = encodeNpz({ a: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, 'w/conv1': { shape: [1], data: Int32Array.of(9) } })
    const arrays = parseNpz(bytes)
    expect(Object.keys(arrays).sort()).toEqual(['a', 'w/conv1'])
    expect(Array.from(arrays.a!.data as Float32Array)).toEqual([1, 2, 3, 4])
    const withExtra = zipSync({ 'x.npy': encodeNpy([1], Uint8Array.of(5)), 'README.txt': new TextEncoder().encode('hello') })
    expect(Object.keys(parseNpz(withExtra))).toEqual(['x'])
  })

  it('names the archive and the member of a damaged array', () => {
    expect(failure(() => parseNpz(new TextEncoder().encode('not a zip at all'), 'd.npz')).message).toMatch(
      /^d\.npz: this is not a readable \.npz \(zip\) archive/,
    )
    const whole = encodeNpy([4], Float32Array.of(1, 2, 3, 4))
    const broken = zipSync({ 'x.npy': whole.subarray(0, whole.length - 3) })
    expect(failure(() => parseNpz(broken, 'd.npz')).message).toMatch(/^d\.npz:x\.npy: truncated/)
  })
})

describe('readNpzDataset', () => {
  function save(arrays: Parameters<typeof encodeNpz>[0], name = 'd.npz'): string {
    const file = join(home.dir, name)
    writeFileSync(file, encodeNpz(arrays))
    return file
  }
  const x = (n: number, h = 2, w = 2) => ({ shape: [n, h, w], data: Float32Array.from({ length: n * h * w }, (_, i) => i) })
  const y = (...labels: number[]) => ({ shape: [labels.length], data: Int32Array.from(labels) })

  it('reads a compressed archive written by NumPy (Zip64, int64 labels)', () => {
    const file = join(home.dir, 'numpy.npz')
    writeFileSync(file, fromBase64(NUMPY_NPZ))
    const d = readNpzDataset(file, { id: 'np', name: 'np' })
    expect(d.sampleShape).toEqual([2, 2, 1])
    expect(Array.from(d.train.y)).toEqual([0, 1])
    expect(Array.from(d.test.x)).toEqual([0, 1, 2, 3])
    expect(d.normalization.scale).toBe(1 / 255)
  })

  it('reads train, validation and test splits with class names', () => {
    const d = readNpzDataset(save({ x_train: x(3), y_train: y(0, 1, 2), x_val: x(1), y_val: y(2), x_test: x(2), y_test: y(1, 0) }), {
      id: 'd',
      name: 'D',
      classNames: ['a', 'b', 'c'],
    })
    expect(d.sampleShape).toEqual([2, 2, 1])
    expect([d.train.count, d.validation?.count, d.test.count]).toEqual([3, 1, 2])
    expect(d.classNames).toEqual(['a', 'b', 'c'])
    expect(d.normalization.scale).toBe(1)
  })

  it('names what is wrong: a missing array, count mismatch, float labels, float64 images, 2-D labels, labels out of range, shapes', () => {
    const base = { x_train: x(3), y_train: y(0, 1, 2), x_test: x(2), y_test: y(1, 0) }
    const meta = { id: 'd', name: 'D' }
    const { y_test: _, ...noTest } = base
    expect(failure(() => readNpzDataset(save(noTest), meta)).message).toBe(
      "d.npz: missing array 'y_test'; an NPZ dataset needs x_train, y_train, x_test and y_test.",
    )
    expect(failure(() => readNpzDataset(save({ ...base, y_train: y(0, 1) }), meta)).message).toBe("d.npz: 'x_train' has 3 samples but 'y_train' has 2 labels.")
    expect(failure(() => readNpzDataset(save({ ...base, y_train: { shape: [3], data: Float32Array.of(0, 1, 2) } }), meta)).message).toMatch(
      /'y_train' is <f4; labels must be integers/,
    )
    expect(failure(() => readNpzDataset(save({ ...base, x_test: { shape: [2, 2, 2], data: new Float64Array(8) } }), meta)).message).toMatch(
      /'x_test' is <f8; images must be float32 or uint8/,
    )
    expect(failure(() => readNpzDataset(save({ ...base, y_test: { shape: [2, 1], data: Int32Array.of(1, 0) } }), meta)).message).toMatch(
      /'y_test' must be 1-D, not \(2, 1\)/,
    )
    expect(failure(() => readNpzDataset(save({ ...base, y_test: y(1, 5) }), { ...meta, classNames: ['a', 'b', 'c'] })).message).toMatch(
      /label 5 is outside the 3 classes \(0 to 2\)/,
    )
    expect(failure(() => readNpzDataset(save({ ...base, y_test: y(1, -1) }), meta)).message).toMatch(/label -1 is outside/)
    expect(failure(() => readNpzDataset(save({ ...base, x_test: x(2, 3, 2) }), meta)).message).toMatch(/train samples are 2×2×1 but test samples are 3×2×1/)
  })
})

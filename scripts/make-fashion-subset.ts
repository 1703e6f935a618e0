// Makes resources/datasets/fashion-mnist-subset from Debian's dataset-fashion-mnist: 10k train / 2k test,
// class-balanced, seeded, stored as gzipped IDX. Run: node --import tsx scripts/make-fashion-subset.ts
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { stratifiedIndices, take } from '../src-main/engine/data/dataset.ts'
import { encodeIdxU8 } from '../src-main/engine/data/idx.ts'
import { FASHION_MNIST_CLASSES, readIdxFolder, SYSTEM_FASHION_MNIST } from '../src-main/engine/data/sources.ts'
import { resourcePath } from '../src-main/paths.ts'

const full = readIdxFolder(SYSTEM_FASHION_MNIST, { id: 'fashion-mnist', name: 'Fashion-MNIST', classNames: FASHION_MNIST_CLASSES })
const out = resourcePath('datasets', 'fashion-mnist-subset')
mkdirSync(out, { recursive: true })
for (const [name, split, total, seed] of [
  ['train', full.train, 10_000, 1],
  ['t10k', full.test, 2_000, 2],
] as const) {
  const subset = take(split, stratifiedIndices(split.y, 10, total, seed), full.sampleShape)
  const write = (file: string, bytes: Uint8Array) => writeFileSync(join(out, `${file}.gz`), gzipSync(bytes, { level: 9 }))
  write(`${name}-images-idx3-ubyte`, encodeIdxU8([subset.count, 28, 28], subset.x as Uint8Array))
  write(`${name}-labels-idx1-ubyte`, encodeIdxU8([subset.count], Uint8Array.from(subset.y)))
  console.log(`${name}: ${subset.count} samples`)
}

import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { batchTensors, type Dataset } from '../../../src-main/engine/data/dataset.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import type { CellResult } from '../../../src-main/engine/sweep.ts'
import { searchMidpoints, walkingScopes } from '../../../src-main/engine/walking-noise.ts'
import { mlp } from '../../../src-main/engine/zoo.ts'

const COUNT = 300
let net: Network
let dataset: Dataset

beforeAll(async () => {
  await tf.setBackend('cpu')
  net = new Network(mlp('tfc', true, [4, 4, 1], 4), 2)
  const random = seededRandom(8)
  const split = { x: Float32Array.from({ length: COUNT * 16 }, () => random() * 2 - 1), y: new Int32Array(COUNT), count: COUNT }
  dataset = {
    id: 't',
    name: 't',
    sampleShape: [4, 4, 1],
    classNames: ['a', 'b', 'c', 'd'],
    normalization: { scale: 1, mean: 0, std: 1 },
    train: split,
    validation: null,
    test: split,
  }
  // Labels = the clean prediction: clean accuracy 1.
  split.y.set(
    tf.tidy(() =>
      net
        .forward(batchTensors(dataset, split, [...Array(COUNT).keys()]).x)
        .argMax(-1)
        .dataSync(),
    ),
  )
})

describe('searchMidpoints', () => {
  it('walks every point but the input', () => {
    expect(walkingScopes(net).map((s) => (s.kind === 'point' ? s.point : s.kind))).toEqual(net.points.slice(1).map((p) => p.id))
  })

  it('resumes an adaptive search from stored cells: same decisions, only the missing cells computed', async () => {
    const scopes = [
      { kind: 'point' as const, point: 'fc2' },
      { kind: 'point' as const, point: 'logits' },
    ]
    const search = { noise: { kind: 'additive' as const }, seed: 3, batchSize: 128, adaptive: { repeats: 3, toleranceDecades: 0.1 } }
    const stored: CellResult[] = []
    const full = await searchMidpoints(net, dataset, dataset.test, scopes, search, { onCell: (cell) => void stored.push(cell) })
    expect(full.map((r) => r.estimate.status)).toEqual(['found', 'found'])
    expect(full[0]!.cost.passes).toBeGreaterThan(1)

    // A job stopped after the first scope's cells and part of the second's.
    const firstScope = stored.filter((c) => c.scope === 'fc2')
    const kept = [...firstScope, ...stored.filter((c) => c.scope === 'logits').slice(0, 10)]
    const computed: CellResult[] = []
    const resumed = await searchMidpoints(net, dataset, dataset.test, scopes, { ...search, known: kept }, { onCell: (cell) => void computed.push(cell) })
    expect(computed).toHaveLength(stored.length - kept.length)
    expect(resumed[0]!.cost.cells).toBe(0)
    expect(resumed.map((r) => r.estimate)).toEqual(full.map((r) => r.estimate))
  })
})

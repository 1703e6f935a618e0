import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { batchTensors, type Dataset } from '../../../src-main/engine/data/dataset.ts'
import type { ModelSpec } from '../../../src-main/engine/graph.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { scopeHooks, scopeId, seededNormals, type NoiseModel, type NoiseScope } from '../../../src-main/engine/noise.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { decided } from '../../../src-main/engine/midpoint.ts'
import { cellKey, gridCells, runSweep, ScopeCache, type CellResult, type SweepCell } from '../../../src-main/engine/sweep.ts'

const spec: ModelSpec = {
  architecture: 'tiny-cnn',
  classes: 3,
  nodes: [
    { id: 'input', op: 'input', shape: [6, 6, 1] },
    { id: 'conv1', op: 'conv2d', input: 'input', filters: 4, kernel: 3, useBias: false },
    { id: 'conv1.bn', op: 'batchNorm', input: 'conv1' },
    { id: 'conv1.relu', op: 'relu', input: 'conv1.bn' },
    { id: 'pool1', op: 'maxPool', input: 'conv1.relu', size: 2 },
    { id: 'flatten', op: 'flatten', input: 'pool1' },
    { id: 'fc1', op: 'dense', input: 'flatten', units: 8 },
    { id: 'fc1.relu', op: 'relu', input: 'fc1' },
    { id: 'logits', op: 'dense', input: 'fc1.relu', units: 3 },
  ],
}

const COUNT = 230
const BATCH = 64
let net: Network
let dataset: Dataset

beforeAll(async () => {
  await tf.setBackend('cpu')
  net = new Network(spec, 3)
  const random = seededRandom(4)
  const x = Float32Array.from({ length: COUNT * 36 }, () => random() * 2 - 1)
  const split = { x, y: new Int32Array(COUNT), count: COUNT }
  // Label each sample with the clean network's prediction, so clean accuracy is 1 and noise has something to destroy.
  const provisional: Dataset = {
    id: 't',
    name: 't',
    sampleShape: [6, 6, 1],
    classNames: ['a', 'b', 'c'],
    normalization: { scale: 1, mean: 0, std: 1 },
    train: split,
    validation: null,
    test: split,
  }
  const predicted = tf.tidy(() =>
    net
      .forward(batchTensors(provisional, split, [...Array(COUNT).keys()]).x)
      .argMax(-1)
      .dataSync(),
  )
  split.y.set(predicted)
  dataset = provisional
})

/** The naive reference: a full forward with the scope's hooks per cell and batch, the same seeded normals. */
function naive(cell: SweepCell, model: NoiseModel, seed: number): number {
  let correct = 0
  for (let start = 0; start < COUNT; start += BATCH) {
    const indices = Array.from({ length: Math.min(BATCH, COUNT - start) }, (_, i) => start + i)
    correct += tf.tidy(() => {
      const { x, y } = batchTensors(dataset, dataset.test, indices)
      const hooks = scopeHooks(net, cell.scope, model, cell.sigma, { source: seededNormals(seed, cell.repeat, start) })
      return net.forward(x, { hooks }).argMax(-1).equal(y).sum().dataSync()[0]!
    })
  }
  return correct
}

const SCOPES: NoiseScope[] = [
  { kind: 'point', point: 'conv1' },
  { kind: 'point', point: 'pool1' },
  { kind: 'point', point: 'logits' },
  { kind: 'global' },
  { kind: 'set', name: 'late', scales: { 'fc1.relu': 2, 'conv1.relu': 0.5 } },
]

describe('runSweep', () => {
  for (const model of [{ kind: 'additive' }, { kind: 'combined', ratio: 0.3, order: 'add-then-mul' }] as NoiseModel[]) {
    it(`equals a naive full forward with the same hooks and seed (${model.kind})`, async () => {
      const cells = gridCells(SCOPES, [0, 0.3, 1.5], 2)
      const { results } = await runSweep(net, dataset, dataset.test, { cells, noise: model, seed: 9, batchSize: BATCH })
      expect(results).toHaveLength(cells.length)
      for (const cell of cells) {
        const result = results.find((r) => cellKey(r) === cellKey({ ...cell, scope: scopeId(cell.scope) }))!
        expect(result.count).toBe(COUNT)
        expect(result.correct, `${scopeId(cell.scope)} σ=${cell.sigma} r=${cell.repeat}`).toBe(naive(cell, model, 9))
      }
      // The noise does something: clean is perfect, σ = 1.5 is not, and repeats differ.
      const at = (scope: string, sigma: number, repeat: number) => results.find((r) => r.scope === scope && r.sigma === sigma && r.repeat === repeat)!.correct
      expect(at('conv1', 0, 0)).toBe(COUNT)
      expect(at('conv1', 1.5, 0)).toBeLessThan(COUNT * 0.9)
      expect(results.filter((r) => r.sigma === 1.5).some((r) => at(r.scope, 1.5, 0) !== at(r.scope, 1.5, 1))).toBe(true)
    })
  }

  it('recomputes only downstream nodes, counts that work and leaves no tensors behind', async () => {
    const cells = gridCells([{ kind: 'point', point: 'fc1' }], [0, 0.5, 1], 3)
    const before = tf.memory().numTensors
    const { cost } = await runSweep(net, dataset, dataset.test, { cells, noise: { kind: 'additive' }, seed: 1, batchSize: BATCH })
    await runSweep(net, dataset, dataset.test, { cells: gridCells([{ kind: 'global' }], [0.5], 2), noise: { kind: 'combined' }, seed: 1, batchSize: BATCH })
    expect(tf.memory().numTensors).toBe(before)
    // One clean pass (8 nodes) + 6 noisy cells × 2 nodes after fc1 (fc1.relu, logits); σ = 0 reads the clean logits.
    expect(cost).toMatchObject({ passes: 1, cells: 9, layerEvaluations: 8 + 6 * 2 })
    expect(cost.macs).toBe((net.points.reduce((s, p) => s + p.macs, 0) + 6 * 8 * 3) * COUNT)
  })

  it('skips done cells, reports each cell once, and a resumed sweep gives the same numbers', async () => {
    const cells = gridCells(
      [
        { kind: 'point', point: 'conv1.bn' },
        { kind: 'point', point: 'fc1' },
      ],
      [0.2, 0.8],
      3,
    )
    const request = { cells, noise: { kind: 'multiplicative' } as NoiseModel, seed: 5, batchSize: BATCH, cellsPerPass: 2 }
    const full = await runSweep(net, dataset, dataset.test, request)

    // Stop after the first cells have been stored, as a cancelled job would.
    const stored: CellResult[] = []
    const controller = new AbortController()
    await expect(
      runSweep(net, dataset, dataset.test, request, {
        onCell: (cell) => {
          stored.push(cell)
          if (stored.length === 4) controller.abort(new Error('cancelled'))
        },
        signal: controller.signal,
      }),
    ).rejects.toThrow('cancelled')
    expect(stored).toHaveLength(4)

    const computed: CellResult[] = []
    const resumed = await runSweep(net, dataset, dataset.test, request, { done: new Set(stored.map(cellKey)), onCell: (cell) => void computed.push(cell) })
    expect(resumed.skipped).toBe(4)
    expect(computed).toHaveLength(cells.length - 4)
    const storedKeys = new Set(stored.map(cellKey))
    expect(computed.some((c) => storedKeys.has(cellKey(c)))).toBe(false)
    const byKey = (list: CellResult[]) => new Map(list.map((c) => [cellKey(c), c]))
    expect(byKey([...stored, ...computed])).toEqual(byKey(full.results))
  })

  it('stops decided cells early with a sequential rule, counting exactly the batches they saw', async () => {
    const cells = gridCells([{ kind: 'point', point: 'fc1' }], [0, 0.01, 0.6, 50], 2)
    const base = { cells, noise: { kind: 'additive' } as NoiseModel, seed: 3, batchSize: BATCH }
    // Per batch, from a run that sees every batch of every cell (one cell per pass, so batches can be summed).
    const perBatch = new Map<string, number[]>()
    for (const cell of cells) {
      const counts: number[] = []
      for (let start = 0; start < COUNT; start += BATCH) {
        const report = await runSweep(net, dataset, dataset.test, { ...base, cells: [cell], limit: Math.min(COUNT, start + BATCH) })
        counts.push(report.results[0]!.correct - counts.reduce((a, b) => a + b, 0))
      }
      perBatch.set(cellKey({ ...cell, scope: scopeId(cell.scope) }), counts)
    }
    const rule = { threshold: (1 + 1 / 3) / 2, z: 2 }
    const sequential = await runSweep(net, dataset, dataset.test, { ...base, sequential: rule })
    const full = await runSweep(net, dataset, dataset.test, base)
    for (const result of sequential.results) {
      const counts = perBatch.get(cellKey(result))!
      // Replay the rule on the per-batch counts: the cell must stop at the first batch after which it is decided.
      let correct = 0
      let seen = 0
      for (let b = 0; b < counts.length; b++) {
        correct += counts[b]!
        seen += Math.min(BATCH, COUNT - b * BATCH)
        if (result.sigma !== 0 && decided(correct, seen, rule)) break
      }
      expect(result).toMatchObject({ correct, count: seen })
    }
    // σ = 0 always runs in full; the tiny σ is decided on the first batch, so work was saved.
    expect(sequential.results.find((r) => r.sigma === 0)!.count).toBe(COUNT)
    expect(sequential.results.filter((r) => r.sigma === 0.01).every((r) => r.count === BATCH)).toBe(true)
    expect(sequential.results.filter((r) => r.sigma > 0 && r.count < COUNT).length).toBeGreaterThanOrEqual(4)
    expect(sequential.cost.layerEvaluations).toBeLessThan(full.cost.layerEvaluations)
  })

  it("reuses a scope's clean prefix and normals across passes: same counts, no prefix work, nothing left behind", async () => {
    const before = tf.memory().numTensors
    const cache = new ScopeCache()
    const request = (sigmas: number[]) => ({
      cells: gridCells([{ kind: 'point', point: 'pool1' }], sigmas, 2),
      noise: { kind: 'additive' } as NoiseModel,
      seed: 9,
      batchSize: BATCH,
    })
    const batches = Math.ceil(COUNT / BATCH)
    const first = await runSweep(net, dataset, dataset.test, { ...request([0.3]), cache })
    // One prefix per batch, one draw of normals per batch and repeat (pool1 is the only noisy point).
    expect(cache.kept()).toEqual({ prefixes: batches, normals: batches * 2 })
    const second = await runSweep(net, dataset, dataset.test, { ...request([0.7, 1.1]), cache })
    // Nothing more is kept by the second pass, and its counts equal those of a sweep that drew everything afresh.
    expect(cache.kept()).toEqual({ prefixes: batches, normals: batches * 2 })
    const reference = await runSweep(net, dataset, dataset.test, request([0.7, 1.1]))
    expect(second.results).toEqual(reference.results)
    // pool1 is followed by flatten, fc1, fc1.relu, logits: 4 nodes per noisy cell, and no clean forward the second time.
    expect(first.cost.layerEvaluations).toBeCloseTo(8 + 2 * 4, 9)
    expect(second.cost.layerEvaluations).toBeCloseTo(4 * 4, 9)
    // A cache too small to hold anything changes nothing but the work.
    const tiny = new ScopeCache(16)
    const uncached = await runSweep(net, dataset, dataset.test, { ...request([0.7, 1.1]), cache: tiny })
    expect(uncached.results).toEqual(reference.results)
    expect(tiny.kept()).toEqual({ prefixes: 0, normals: 0 })
    cache.dispose()
    tiny.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('reports progress and stops on an aborted signal before doing work', async () => {
    const fractions: number[] = []
    await runSweep(
      net,
      dataset,
      dataset.test,
      { cells: gridCells([{ kind: 'global' }], [0.1], 1), noise: { kind: 'additive' }, seed: 1, batchSize: BATCH },
      { onProgress: (f) => fractions.push(f) },
    )
    expect(fractions).toEqual([0.25, 0.5, 0.75, 1])
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(
      runSweep(
        net,
        dataset,
        dataset.test,
        { cells: gridCells([{ kind: 'global' }], [0.1], 1), noise: { kind: 'additive' }, seed: 1 },
        { signal: controller.signal },
      ),
    ).rejects.toThrow('stop')
  })
})

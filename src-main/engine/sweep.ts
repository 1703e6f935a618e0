// The sweep engine: cells (scope, σ, repeat) → correct of count on a split. Each test batch's clean activations are
// computed once per pass and reused for every σ and repeat; only the nodes downstream of the noise are recomputed.
import * as tf from '@tensorflow/tfjs'
import { batchTensors, type Dataset, type Split } from './data/dataset.ts'
import { downstreamOf } from './graph.ts'
import { combineHooks } from './hooks.ts'
import type { Hooks, Network, PointHook } from './network.ts'
import { noiseHook, scopeId, scopeScales, seededNormals, type NoiseModel, type NoiseScope, type NormalSource } from './noise.ts'

export interface SweepCell {
  scope: NoiseScope
  sigma: number
  repeat: number
}

/** One measured cell, shaped like a row of the store's sweep_cells table. */
export interface CellResult {
  /** scopeId(scope): the point id, 'global', or the set's name. */
  scope: string
  sigma: number
  repeat: number
  correct: number
  count: number
}

export interface SweepRequest {
  cells: readonly SweepCell[]
  noise: NoiseModel
  seed: number
  /** Samples per batch (default 1000); the noise drawn depends on it, so keep it when resuming. */
  batchSize?: number
  /** Evaluate only the first `limit` samples of the split. */
  limit?: number
  /** At most this many cells share one pass over the data (default: all cells of a scope); smaller means finer resume. */
  cellsPerPass?: number
  /** Hooks that are part of the network itself (a quantized model's quantization); noise comes after them. */
  base?: Hooks
}

export interface SweepCallbacks {
  /** Keys (cellKey) of cells already measured, e.g. read back from the store; they are skipped. */
  done?: ReadonlySet<string>
  /** Called once per finished cell, in the order cells finish, before the next pass starts. */
  onCell?: (result: CellResult) => void | Promise<void>
  /** Fraction of the pending work done, after every batch. */
  onProgress?: (fraction: number) => void
  signal?: AbortSignal
}

/** Work done, in units a dense PyTorch-style sweep can be compared with. */
export interface SweepCost {
  /** Node computations, each counted over the whole evaluated split (a node run on b of n samples adds b/n). */
  layerEvaluations: number
  /** Multiply-accumulates of those computations, summed over samples. */
  macs: number
  /** Passes over the data (one clean forward each). */
  passes: number
  cells: number
}

export interface SweepReport {
  results: CellResult[]
  skipped: number
  cost: SweepCost
}

export function cellKey(cell: { scope: string; sigma: number; repeat: number }): string {
  return `${cell.scope}|${cell.sigma}|${cell.repeat}`
}

/** Every (scope, σ, repeat) combination. σ = 0 costs nothing: it reads the clean logits of the pass. */
export function gridCells(scopes: readonly NoiseScope[], sigmas: readonly number[], repeats: number): SweepCell[] {
  return scopes.flatMap((scope) => sigmas.flatMap((sigma) => Array.from({ length: repeats }, (_, repeat) => ({ scope, sigma, repeat }))))
}

export function emptyCost(): SweepCost {
  return { layerEvaluations: 0, macs: 0, passes: 0, cells: 0 }
}

export function addCost(total: SweepCost, more: SweepCost): SweepCost {
  return {
    layerEvaluations: total.layerEvaluations + more.layerEvaluations,
    macs: total.macs + more.macs,
    passes: total.passes + more.passes,
    cells: total.cells + more.cells,
  }
}

/** How a scope's noisy logits are computed: from the earliest noisy point on (forwardFrom) when all others lie downstream. */
interface ScopePlan {
  scales: Map<string, number>
  first: string
  fromFirst: boolean
  /** Nodes computed per noisy cell. */
  nodesPerCell: number
  macsPerCell: number
}

function planScope(net: Network, scope: NoiseScope): ScopePlan {
  const scales = scopeScales(scope, net.points)
  const order = net.points.map((p) => p.id)
  const ids = [...scales.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b))
  const first = ids[0]
  if (first === undefined) throw new Error(`The noise scope '${scopeId(scope)}' covers no injection point.`)
  const downstream = downstreamOf(net.spec, first)
  const fromFirst = ids.every((id) => downstream.has(id))
  const computed = net.points.filter((p) => p.op !== 'input' && (!fromFirst || (downstream.has(p.id) && p.id !== first)))
  return { scales, first, fromFirst, nodesPerCell: computed.length, macsPerCell: computed.reduce((sum, p) => sum + p.macs, 0) }
}

/** Normals memoised per (point, stream) for one repeat of one batch, kept outside the cells' tidies, so every σ reuses them. */
function memoised(source: NormalSource): { source: NormalSource; dispose: () => void } {
  const cache = new Map<string, tf.Tensor>()
  return {
    source: (point, shape, stream) => {
      const key = `${point.id}|${stream}|${shape.join('x')}`
      let tensor = cache.get(key)
      if (!tensor) cache.set(key, (tensor = tf.keep(source(point, shape, stream))))
      return tensor
    },
    dispose: () => {
      tf.dispose([...cache.values()])
      cache.clear()
    },
  }
}

export async function runSweep(net: Network, dataset: Dataset, split: Split, request: SweepRequest, callbacks: SweepCallbacks = {}): Promise<SweepReport> {
  const count = Math.min(split.count, request.limit ?? Infinity)
  const batchSize = request.batchSize ?? 1000
  const done = callbacks.done ?? new Set<string>()
  const pending = request.cells.filter((cell) => !done.has(cellKey({ ...cell, scope: scopeId(cell.scope) })))
  const skipped = request.cells.length - pending.length
  // Group by scope: one pass over the data per group (or per chunk of cellsPerPass cells).
  const groups = new Map<string, SweepCell[]>()
  for (const cell of pending) {
    const id = scopeId(cell.scope)
    const group = groups.get(id) ?? []
    group.push(cell)
    groups.set(id, group)
  }
  const chunkSize = request.cellsPerPass ?? Infinity
  const chunks: SweepCell[][] = []
  for (const group of groups.values()) {
    group.sort((a, b) => a.repeat - b.repeat || a.sigma - b.sigma)
    for (let i = 0; i < group.length; i += Math.min(chunkSize, group.length)) chunks.push(group.slice(i, i + Math.min(chunkSize, group.length)))
  }
  const nonInput = net.points.filter((p) => p.op !== 'input')
  const forwardMacs = nonInput.reduce((sum, p) => sum + p.macs, 0)
  const batches = Math.ceil(count / batchSize)
  const totalWork = chunks.reduce((sum, chunk) => sum + chunk.length, 0) * batches
  let work = 0
  let cost = emptyCost()
  const results: CellResult[] = []
  for (const chunk of chunks) {
    const plan = planScope(net, chunk[0]!.scope)
    const correct = new Array<number>(chunk.length).fill(0)
    for (let start = 0; start < count; start += batchSize) {
      if (callbacks.signal?.aborted) throw callbacks.signal.reason
      const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i)
      const counts = evaluateBatch(net, dataset, split, indices, start, chunk, plan, request)
      counts.forEach((c, i) => (correct[i]! += c))
      work += chunk.length
      callbacks.onProgress?.(work / totalWork)
      // Yield so that cancel messages and progress get through between batches.
      await new Promise((resolve) => setImmediate(resolve))
    }
    const noisyCells = chunk.filter((cell) => cell.sigma !== 0).length
    cost = addCost(cost, {
      layerEvaluations: nonInput.length + noisyCells * plan.nodesPerCell,
      macs: (forwardMacs + noisyCells * plan.macsPerCell) * count,
      passes: 1,
      cells: chunk.length,
    })
    for (let i = 0; i < chunk.length; i++) {
      const cell = chunk[i]!
      const result: CellResult = { scope: scopeId(cell.scope), sigma: cell.sigma, repeat: cell.repeat, correct: correct[i]!, count }
      results.push(result)
      await callbacks.onCell?.(result)
    }
  }
  return { results, skipped, cost }
}

/** Correct predictions of every cell of a chunk on one batch. */
function evaluateBatch(
  net: Network,
  dataset: Dataset,
  split: Split,
  indices: number[],
  offset: number,
  chunk: readonly SweepCell[],
  plan: ScopePlan,
  request: SweepRequest,
): number[] {
  const { x, y } = batchTensors(dataset, split, indices)
  const cache = new Map(Object.entries(tf.tidy(() => Object.fromEntries(net.activations(x, { hooks: request.base })))))
  const firstPoint = net.point(plan.first)
  const counted: tf.Tensor[] = []
  let memo: ReturnType<typeof memoised> | null = null
  const cleanCorrect = tf.tidy(() => cache.get(net.outputId)!.argMax(-1).equal(y).sum())
  try {
    let memoRepeat = -1
    for (const cell of chunk) {
      if (cell.sigma === 0) {
        counted.push(cleanCorrect)
        continue
      }
      if (cell.repeat !== memoRepeat) {
        memo?.dispose()
        memo = memoised(seededNormals(request.seed, cell.repeat, offset))
        memoRepeat = cell.repeat
      }
      const source = memo!.source
      counted.push(
        tf.tidy(() => {
          const after = new Map<string, PointHook>()
          for (const [id, scale] of plan.scales) {
            if (!plan.fromFirst || id !== plan.first) after.set(id, noiseHook(request.noise, cell.sigma, { source, scale }))
          }
          const hooks = combineHooks(request.base, { after })
          let logits: tf.Tensor
          if (plan.fromFirst) {
            const noisy = noiseHook(request.noise, cell.sigma, { source, scale: plan.scales.get(plan.first)! })(cache.get(plan.first)!, firstPoint, false)
            logits = net.forwardFrom(cache, plan.first, noisy, { hooks })
          } else {
            logits = net.forward(x, { hooks })
          }
          return logits.argMax(-1).equal(y).sum()
        }),
      )
    }
    const values = tf.tidy(() => tf.stack(counted).dataSync())
    return Array.from(values, Number)
  } finally {
    memo?.dispose()
    tf.dispose([...new Set([...counted, cleanCorrect, ...cache.values(), x, y])])
  }
}

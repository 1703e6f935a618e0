// The sweep engine: cells (scope, σ, repeat) → correct of count on a split. Each test batch's clean activations are
// computed once per pass and reused for every σ and repeat; only the nodes downstream of the noise are recomputed.
import * as tf from '@tensorflow/tfjs'
import { batchTensors, type Dataset, type Split } from './data/dataset.ts'
import { downstreamOf, nodeInputs } from './graph.ts'
import { combineHooks } from './hooks.ts'
import { decided, type SequentialRule } from './midpoint.ts'
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
  /** Sequential testing: a noisy cell stops at the first batch after which it is decided; its count is the samples seen. */
  sequential?: SequentialRule
  /** Clean activations and normals kept across passes of one scope, so a later pass does not recompute them. */
  cache?: ScopeCache
}

/**
 * What a scope's passes share, kept while it fits in `maxBytes`: per batch, the clean values its noisy cells start
 * from (the first noisy point and whatever the nodes after it read that is not recomputed), and the normals drawn for
 * each repeat (they depend on the seed, repeat, batch and point, never on σ). Owned by the caller, who disposes of it.
 */
export class ScopeCache {
  private readonly prefixes = new Map<number, Map<string, tf.Tensor>>()
  private readonly draws = new Map<string, tf.Tensor>()
  private bytes = 0
  constructor(private readonly maxBytes = 256 << 20) {}

  prefix(offset: number): ReadonlyMap<string, tf.Tensor> | undefined {
    return this.prefixes.get(offset)
  }

  /** Keeps copies of `values` for the batch at `offset` if they fit; returns whether they were kept. */
  keepPrefix(offset: number, values: ReadonlyMap<string, tf.Tensor>): boolean {
    const size = [...values.values()].reduce((sum, t) => sum + t.size * 4, 0)
    if (this.prefixes.has(offset) || !this.reserve(size)) return false
    this.prefixes.set(offset, new Map([...values].map(([id, t]) => [id, tf.keep(t.clone())])))
    return true
  }

  normals(key: string): tf.Tensor | undefined {
    return this.draws.get(key)
  }

  /** Takes ownership of a kept tensor of normals if it fits; returns whether it did. */
  keepNormals(key: string, normals: tf.Tensor): boolean {
    if (this.draws.has(key) || !this.reserve(normals.size * 4)) return false
    this.draws.set(key, normals)
    return true
  }

  /** How many batches' prefixes and how many draws of normals are held. */
  kept(): { prefixes: number; normals: number } {
    return { prefixes: this.prefixes.size, normals: this.draws.size }
  }

  dispose(): void {
    for (const values of this.prefixes.values()) tf.dispose([...values.values()])
    tf.dispose([...this.draws.values()])
    this.prefixes.clear()
    this.draws.clear()
    this.bytes = 0
  }

  /** Counts `size` bytes against the budget if they fit. */
  private reserve(size: number): boolean {
    if (this.bytes + size > this.maxBytes) return false
    this.bytes += size
    return true
  }
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
  /** With fromFirst: the clean values a noisy cell reads (the first point and inputs from outside its downstream). */
  reads: string[]
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
  const reads = new Set([first])
  for (const node of net.spec.nodes) {
    if (!downstream.has(node.id) || node.id === first) continue
    for (const input of nodeInputs(node)) if (!downstream.has(input) || input === first) reads.add(input)
  }
  return { scales, first, fromFirst, nodesPerCell: computed.length, macsPerCell: computed.reduce((sum, p) => sum + p.macs, 0), reads: [...reads] }
}

/** Multiply-accumulates per sample of one noisy cell of `scope`: what a cell of it costs relative to another scope's. */
export function cellMacs(net: Network, scope: NoiseScope): number {
  return planScope(net, scope).macsPerCell
}

/**
 * Normals for one repeat of one batch, drawn once, outside the cells' tidies, so every σ reuses them; kept in the
 * scope's cache for later passes while it has room, else disposed of with the batch.
 */
function memoised(source: NormalSource, cache: ScopeCache | undefined, batch: string): { source: NormalSource; dispose: () => void } {
  const local = new Map<string, tf.Tensor>()
  return {
    source: (point, shape, stream) => {
      const key = `${batch}|${point.id}|${stream}|${shape.join('x')}`
      let tensor = cache?.normals(key) ?? local.get(key)
      if (!tensor) {
        tensor = tf.keep(source(point, shape, stream))
        if (!cache?.keepNormals(key, tensor)) local.set(key, tensor)
      }
      return tensor
    },
    dispose: () => {
      tf.dispose([...local.values()])
      local.clear()
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
  const rule = request.sequential
  for (const chunk of chunks) {
    const plan = planScope(net, chunk[0]!.scope)
    const correct = new Array<number>(chunk.length).fill(0)
    const seen = new Array<number>(chunk.length).fill(0)
    // Indices of the chunk's cells still being measured; with a sequential rule, decided noisy cells leave it.
    let active = chunk.map((_, i) => i)
    let layerEvaluations = 0
    let macs = 0
    for (let start = 0; start < count && active.length > 0; start += batchSize) {
      if (callbacks.signal?.aborted) throw callbacks.signal.reason
      const size = Math.min(batchSize, count - start)
      const indices = Array.from({ length: size }, (_, i) => start + i)
      const cells = active.map((i) => chunk[i]!)
      const { counts, prefixComputed } = evaluateBatch(net, dataset, split, indices, start, cells, plan, request)
      counts.forEach((c, k) => {
        correct[active[k]!]! += c
        seen[active[k]!]! += size
      })
      const noisy = cells.filter((cell) => cell.sigma !== 0).length
      layerEvaluations += ((prefixComputed ? nonInput.length : 0) + noisy * plan.nodesPerCell) * (size / count)
      macs += ((prefixComputed ? forwardMacs : 0) + noisy * plan.macsPerCell) * size
      const before = active.length
      if (rule) active = active.filter((i) => chunk[i]!.sigma === 0 || !decided(correct[i]!, seen[i]!, rule))
      // A decided cell's remaining batches count as done.
      work += cells.length + (before - active.length) * (batches - 1 - start / batchSize)
      callbacks.onProgress?.(work / totalWork)
      // Yield so that cancel messages and progress get through between batches.
      await new Promise((resolve) => setImmediate(resolve))
    }
    cost = addCost(cost, { layerEvaluations, macs, passes: 1, cells: chunk.length })
    for (let i = 0; i < chunk.length; i++) {
      const cell = chunk[i]!
      const result: CellResult = { scope: scopeId(cell.scope), sigma: cell.sigma, repeat: cell.repeat, correct: correct[i]!, count: seen[i]! }
      results.push(result)
      await callbacks.onCell?.(result)
    }
  }
  return { results, skipped, cost }
}

/**
 * Correct predictions of every cell of a chunk on one batch. The clean activations come from the request's prefix
 * cache when the chunk has no σ = 0 cell and the scope's noise starts at one point; `prefixComputed` says whether the
 * clean forward pass ran.
 */
function evaluateBatch(
  net: Network,
  dataset: Dataset,
  split: Split,
  indices: number[],
  offset: number,
  chunk: readonly SweepCell[],
  plan: ScopePlan,
  request: SweepRequest,
): { counts: number[]; prefixComputed: boolean } {
  const { x, y } = batchTensors(dataset, split, indices)
  const cached = plan.fromFirst && chunk.every((cell) => cell.sigma !== 0) ? request.cache?.prefix(offset) : undefined
  const cache = cached ?? new Map(Object.entries(tf.tidy(() => Object.fromEntries(net.activations(x, { hooks: request.base })))))
  if (!cached && plan.fromFirst) request.cache?.keepPrefix(offset, new Map(plan.reads.map((id) => [id, cache.get(id)!])))
  const firstPoint = net.point(plan.first)
  const counted: tf.Tensor[] = []
  let memo: ReturnType<typeof memoised> | null = null
  const cleanCorrect = cached ? null : tf.tidy(() => cache.get(net.outputId)!.argMax(-1).equal(y).sum())
  try {
    let memoRepeat = -1
    for (const cell of chunk) {
      if (cell.sigma === 0) {
        counted.push(cleanCorrect!)
        continue
      }
      if (cell.repeat !== memoRepeat) {
        memo?.dispose()
        memo = memoised(seededNormals(request.seed, cell.repeat, offset), request.cache, `${offset}|${cell.repeat}`)
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
    const values = counted.length === 0 ? [] : tf.tidy(() => tf.stack(counted).dataSync())
    return { counts: Array.from(values, Number), prefixComputed: !cached }
  } finally {
    memo?.dispose()
    const owned = cached ? [] : [...cache.values(), cleanCorrect!]
    tf.dispose([...new Set([...counted, ...owned, x, y])])
  }
}

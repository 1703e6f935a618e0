// Midpoint noise levels of many scopes (walking noise: one point at a time) on a split, adaptively or on a dense grid,
// with the sweep engine as the evaluator; known cells (a resumed job) are reused, and the work done is counted.
import type { Dataset, Split } from './data/dataset.ts'
import { adaptiveMidpoint, denseMidpoint, type AdaptiveOptions, type AdaptiveResult, type CellCounts, type CellEvaluator } from './midpoint.ts'
import type { Hooks, Network } from './network.ts'
import { scopeId, type NoiseModel, type NoiseScope } from './noise.ts'
import { addCost, cellKey, emptyCost, runSweep, ScopeCache, type CellResult, type SweepCallbacks, type SweepCost } from './sweep.ts'

export interface MidpointSearch {
  noise: NoiseModel
  seed: number
  batchSize?: number
  limit?: number
  /** 'adaptive' (default) or a dense grid of `sigmas` × `repeats`. */
  strategy?: 'adaptive' | 'dense'
  adaptive?: Omit<AdaptiveOptions, 'classes'>
  sigmas?: readonly number[]
  repeats?: number
  /** Cells measured before (e.g. read back from the store): reused, not recomputed. */
  known?: readonly CellResult[]
  /** Hooks that belong to the network itself (a quantized model's quantization). */
  base?: Hooks
}

export interface ScopeMidpoint extends AdaptiveResult {
  scope: string
  cost: SweepCost
}

/** Walking-noise scopes: one per injection point except the input. */
export function walkingScopes(net: Pick<Network, 'points'>): NoiseScope[] {
  return net.points.filter((p) => p.op !== 'input').map((p) => ({ kind: 'point', point: p.id }))
}

export async function searchMidpoints(
  net: Network,
  dataset: Dataset,
  split: Split,
  scopes: readonly NoiseScope[],
  search: MidpointSearch,
  callbacks: Omit<SweepCallbacks, 'done'> = {},
): Promise<ScopeMidpoint[]> {
  const known = new Map((search.known ?? []).map((cell) => [cellKey(cell), cell]))
  const out: ScopeMidpoint[] = []
  for (const scope of scopes) {
    const id = scopeId(scope)
    let cost = emptyCost()
    // The adaptive search makes several passes over the same scope: its clean prefix and normals are computed once. A
    // dense grid makes one pass, so keeping them would be work for nothing.
    const cache = search.strategy === 'dense' ? undefined : new ScopeCache()
    const evaluate: CellEvaluator = async (requests, sequential) => {
      const cells = requests.map(({ sigma, repeat }) => ({ scope, sigma, repeat }))
      const report = await runSweep(
        net,
        dataset,
        split,
        { cells, noise: search.noise, seed: search.seed, batchSize: search.batchSize, limit: search.limit, base: search.base, sequential, cache },
        { ...callbacks, done: new Set(known.keys()) },
      )
      cost = addCost(cost, report.cost)
      for (const result of report.results) known.set(cellKey(result), result)
      return requests.map(({ sigma, repeat }): CellCounts => known.get(cellKey({ scope: id, sigma, repeat }))!)
    }
    const classes = dataset.classNames.length
    try {
      const result =
        search.strategy === 'dense'
          ? await denseMidpoint(evaluate, { classes, sigmas: search.sigmas, repeats: search.repeats })
          : await adaptiveMidpoint(evaluate, { classes, ...search.adaptive })
      out.push({ ...result, scope: id, cost })
    } finally {
      cache?.dispose()
    }
  }
  return out
}

// One share of a sweep — the scopes it claims from a queue shared with the other threads — from model and dataset
// files to midpoints; run in the job process, or in a worker thread when the sweep is spread over the cores.
import type { SweepParams } from '../contract/index.ts'
import { initBackend } from '../engine/backend.ts'
import { loadDataset, type DatasetSource } from '../engine/data/registry.ts'
import { logGrid, type MidpointEstimate } from '../engine/midpoint.ts'
import { importLayersModel } from '../engine/model-files.ts'
import type { NoiseScope } from '../engine/noise.ts'
import { storedModelHooks } from '../engine/stored-hooks.ts'
import type { CellResult, SweepCost } from '../engine/sweep.ts'
import { searchMidpoints } from '../engine/walking-noise.ts'

export interface SweepShare {
  modelJson: string
  dataset: DatasetSource
  params: SweepParams
  /** Every scope of the sweep, costliest first: each thread claims the next one when it is free (see ScopeQueue). */
  scopes: NoiseScope[]
  /** The queue's counter, shared by the threads of one sweep. */
  queue: SharedArrayBuffer
  /** Cells measured before (a resumed sweep): reused, never measured again. */
  known: CellResult[]
}

export interface ScopeSummary {
  scope: string
  midpoint: MidpointEstimate
  passes: number
  stopped: string
  cost: SweepCost
}

export interface ShareCallbacks {
  onCell: (cell: CellResult) => void
  /** Progress of one scope (its index in share.scopes), 0…1. */
  onProgress: (scope: number, fraction: number) => void
  signal?: AbortSignal
}

export async function runSweepShare(share: SweepShare, callbacks: ShareCallbacks): Promise<ScopeSummary[]> {
  await initBackend()
  const { net, metadata } = await importLayersModel(share.modelJson)
  try {
    // The model's own normalisation, so it sees inputs as it did in training.
    const dataset = { ...loadDataset(share.dataset), normalization: metadata.normalization }
    const p = share.params
    const base = storedModelHooks(net, metadata)
    const summaries: ScopeSummary[] = []
    const queue = new ScopeQueue(share.queue)
    for (let index = queue.claim(); index < share.scopes.length; index = queue.claim()) {
      const scope = share.scopes[index]!
      const [found] = await searchMidpoints(
        net,
        dataset,
        dataset.test,
        [scope],
        {
          noise: p.noise,
          seed: p.seed,
          limit: p.limit,
          strategy: p.strategy === 'grid' ? 'dense' : 'adaptive',
          adaptive: { range: [p.grid.from, p.grid.to], repeats: p.repeats, toleranceDecades: p.toleranceDecades },
          sigmas: logGrid(p.grid.from, p.grid.to, p.grid.count),
          repeats: p.repeats,
          known: share.known,
          base,
        },
        {
          signal: callbacks.signal,
          onCell: callbacks.onCell,
          onProgress: (fraction) => callbacks.onProgress(index, Math.min(fraction, 0.99)),
        },
      )
      summaries.push({ scope: found!.scope, midpoint: found!.estimate, passes: found!.passes, stopped: found!.stopped, cost: found!.cost })
      callbacks.onProgress(index, 1)
    }
    return summaries
  } finally {
    net.dispose()
  }
}

/**
 * Hands out scope indices, each once, to the threads of a sweep. Scopes differ in cost by an order of magnitude (the
 * input point recomputes the whole network per cell, the last point one layer), so threads claiming the costliest
 * remaining scope when free finish together where a fixed split would leave one thread idle.
 */
export class ScopeQueue {
  private readonly next: Int32Array
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.next = new Int32Array(buffer)
  }

  get buffer(): SharedArrayBuffer {
    return this.next.buffer as SharedArrayBuffer
  }

  claim(): number {
    return Atomics.add(this.next, 0, 1)
  }
}

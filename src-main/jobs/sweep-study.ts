// One share of a sweep — some of its scopes — from model and dataset files to midpoints; run in the job process,
// or in a worker thread when the sweep is spread over the cores.
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
  scopes: NoiseScope[]
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
  onProgress: (fraction: number) => void
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
    for (const [index, scope] of share.scopes.entries()) {
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
          onProgress: (fraction) => callbacks.onProgress((index + Math.min(fraction, 0.99)) / share.scopes.length),
        },
      )
      summaries.push({ scope: found!.scope, midpoint: found!.estimate, passes: found!.passes, stopped: found!.stopped, cost: found!.cost })
    }
    return summaries
  } finally {
    net.dispose()
  }
}

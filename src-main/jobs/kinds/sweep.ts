// The sweep job: noise at injection points (one at a time, all at once, or a weighted set) over σ, evaluated on the
// test split. The scopes are spread over worker threads, one per core; every cell is stored as it is measured, and a
// stopped sweep resumes from its stored cells.
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { initBackend } from '../../engine/backend.ts'
import { startEntryWorker } from '../../engine/entry-worker.ts'
import { importLayersModel } from '../../engine/model-files.ts'
import type { NoiseScope } from '../../engine/noise.ts'
import { addCost, cellMacs, emptyCost, type CellResult } from '../../engine/sweep.ts'
import type { JobContext, JobFunction } from '../context.ts'
import { runSweepShare, ScopeQueue, type ScopeSummary, type SweepShare } from '../sweep-study.ts'
import { inShare } from '../cluster/task-plan.ts'

const sweepJob: JobFunction<'sweep'> = async (context: JobContext<'sweep'>) => {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model')
  context.param('backend', (await initBackend()).name)
  const { net, metadata } = await importLayersModel(context.inputs.modelJson)
  const order = net.points.map((point) => point.id)
  // flatten only reshapes: noise there is noise on its input.
  const allScopes: NoiseScope[] =
    p.scope.kind === 'walking'
      ? net.points.filter((point) => point.op !== 'flatten').map((point) => ({ kind: 'point', point: point.id }))
      : p.scope.kind === 'global'
        ? [{ kind: 'global' }]
        : [{ kind: 'set', name: p.scope.name, scales: p.scope.scales }]
  // Costliest first, so the threads that claim them finish together (ScopeQueue).
  const macs = new Map(allScopes.map((scope) => [scope, cellMacs(net, scope)]))
  net.dispose()
  const scopes = inShare(allScopes, context.share).sort((a, b) => macs.get(b)! - macs.get(a)!)

  const workers = Math.max(1, Math.min(p.workers ?? availableParallelism(), scopes.length))
  context.param('workers', workers)
  const share: SweepShare = {
    modelJson: context.inputs.modelJson,
    dataset: context.inputs.dataset,
    params: p,
    scopes,
    queue: new ScopeQueue().buffer,
    known: context.resume?.sweepCells ?? [],
  }
  const progress = new Array<number>(scopes.length).fill(0)
  // A scope's search makes passes of unknown number, each reporting 0…1: its share only ever grows, to 1 when it ends.
  const onProgress = (scope: number, fraction: number) => {
    progress[scope] = Math.max(progress[scope]!, fraction)
    context.progress(progress.reduce((a, b) => a + b, 0) / scopes.length, 'sweeping', `${scopes.length} scope(s) on ${workers} worker(s)`)
  }
  const onCell = (cell: CellResult) => context.cells([cell])

  const results = await Promise.all(
    Array.from({ length: workers }, () =>
      workers === 1 ? runSweepShare(share, { onCell, onProgress, signal: context.signal }) : inWorker(share, onCell, onProgress),
    ),
  )
  const summaries = results.flat().sort((a, b) => order.indexOf(a.scope) - order.indexOf(b.scope))
  for (const s of summaries) if (s.midpoint.sigma !== null) context.metric(`midpoint:${s.scope}`, s.midpoint.sigma, 0)
  const cost = summaries.reduce((total, s) => addCost(total, s.cost), emptyCost())
  // A task of a fanned-out sweep reports its part; the host logs the total once all parts are in (cluster/task-plan.ts).
  if (!context.share) context.metric('layer_evaluations', cost.layerEvaluations, 0)
  context.result({
    strategy: p.strategy,
    classes: metadata.classNames.length,
    workers,
    scopes: summaries.map((s) => ({ scope: s.scope, sigma: s.midpoint.sigma, status: s.midpoint.status, passes: s.passes, stopped: s.stopped, cost: s.cost })),
    cost,
  })
  context.progress(1, 'done', `${scopes.length} scope(s)`)
}

/** The worker sits next to the job host: sweep-worker.js in a build, or sweep-worker.ts run through tsx. */
function startWorker(share: SweepShare): Worker {
  const hostDir = process.env.BENCHSIDE_JOB_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..')
  return startEntryWorker(import.meta.url, { built: join(hostDir, 'sweep-worker.js'), source: join(hostDir, 'sweep-worker.ts') }, share)
}

function inWorker(share: SweepShare, onCell: (cell: CellResult) => void, onProgress: (scope: number, fraction: number) => void): Promise<ScopeSummary[]> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(share)
    worker.on('message', (message: { type: string; cell?: CellResult; scope?: number; fraction?: number; summaries?: ScopeSummary[]; message?: string }) => {
      if (message.type === 'cell') onCell(message.cell!)
      else if (message.type === 'progress') onProgress(message.scope!, message.fraction!)
      else if (message.type === 'done') resolve(message.summaries!)
      else if (message.type === 'error') reject(new Error(message.message))
    })
    worker.on('error', reject)
    worker.on('exit', (code) => code !== 0 && reject(new Error(`A sweep worker stopped with code ${code}.`)))
  })
}

export default sweepJob

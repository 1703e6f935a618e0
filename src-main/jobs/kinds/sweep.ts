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
import { addCost, emptyCost, type CellResult } from '../../engine/sweep.ts'
import type { JobContext, JobFunction } from '../context.ts'
import { runSweepShare, type ScopeSummary, type SweepShare } from '../sweep-study.ts'
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
  net.dispose()
  const scopes = inShare(allScopes, context.share)

  const workers = Math.max(1, Math.min(p.workers ?? availableParallelism(), scopes.length))
  context.param('workers', workers)
  const shares = Array.from({ length: workers }, (_, w): SweepShare => ({
    modelJson: context.inputs.modelJson,
    dataset: context.inputs.dataset,
    params: p,
    scopes: scopes.filter((_, i) => i % workers === w),
    known: context.resume?.sweepCells ?? [],
  }))
  const progress = new Array<number>(workers).fill(0)
  const report = (w: number, fraction: number) => {
    progress[w] = fraction
    context.progress(progress.reduce((a, b) => a + b, 0) / workers, 'sweeping', `${scopes.length} scope(s) on ${workers} worker(s)`)
  }
  const onCell = (cell: CellResult) => context.cells([cell])

  const results = await Promise.all(
    shares.map((share, w) =>
      workers === 1 ? runSweepShare(share, { onCell, onProgress: (f) => report(w, f), signal: context.signal }) : inWorker(share, onCell, (f) => report(w, f)),
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

function inWorker(share: SweepShare, onCell: (cell: CellResult) => void, onProgress: (fraction: number) => void): Promise<ScopeSummary[]> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(share)
    worker.on('message', (message: { type: string; cell?: CellResult; fraction?: number; summaries?: ScopeSummary[]; message?: string }) => {
      if (message.type === 'cell') onCell(message.cell!)
      else if (message.type === 'progress') onProgress(message.fraction!)
      else if (message.type === 'done') resolve(message.summaries!)
      else if (message.type === 'error') reject(new Error(message.message))
    })
    worker.on('error', reject)
    worker.on('exit', (code) => code !== 0 && reject(new Error(`A sweep worker stopped with code ${code}.`)))
  })
}

export default sweepJob

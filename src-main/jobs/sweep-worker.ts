// A worker thread that runs one share of a sweep and reports its cells, progress and midpoints to the job thread.
import { parentPort, workerData } from 'node:worker_threads'
import '../warnings.ts'
import { runSweepShare, type SweepShare } from './sweep-study.ts'

runSweepShare(workerData as SweepShare, {
  onCell: (cell) => parentPort!.postMessage({ type: 'cell', cell }),
  onProgress: (scope, fraction) => parentPort!.postMessage({ type: 'progress', scope, fraction }),
}).then(
  (summaries) => parentPort!.postMessage({ type: 'done', summaries }),
  (error: unknown) => parentPort!.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
)

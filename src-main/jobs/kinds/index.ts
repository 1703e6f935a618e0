// Every job kind: a one-line summary for the UI and CLI, and its job function, loaded only inside the job process.
import type { JobKind } from '../../contract/index.ts'
import type { JobFunction } from '../context.ts'

interface JobKindEntry<K extends JobKind> {
  summary: string
  load: () => Promise<{ default: JobFunction<K> }>
}

export const jobKinds: { [K in JobKind]: JobKindEntry<K> } = {
  selftest: {
    summary: 'Writes metrics for a few seconds: shows that jobs, progress, cancel and the history work.',
    load: () => import('./selftest.ts'),
  },
  train: {
    summary: 'Trains an architecture on a dataset: per-epoch metrics, checkpoints, test accuracy, the model as artifacts.',
    load: () => import('./train.ts'),
  },
  evaluate: {
    summary: 'Evaluates a stored model on a dataset split: accuracy, loss, confusion matrix.',
    load: () => import('./evaluate.ts'),
  },
}

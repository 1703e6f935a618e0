// A small history written straight into a data folder (through the store, as a job's parent would), for views that
// need finished runs with params, metrics, tags and files without training anything.
import { Store } from '../../src-main/store/store.ts'

export interface SeededRun {
  uuid: string
  name: string
  params: Record<string, string>
}

/** One learning-rate study: runs that differ in lr and optimizer, share architecture and batch, log loss and accuracy. */
export const STUDY = [
  { name: 'lr 0.1 adam', lr: 0.1, optimizer: 'adam', final: 0.62, tags: ['baseline'] },
  { name: 'lr 0.01 adam', lr: 0.01, optimizer: 'adam', final: 0.91, tags: ['baseline', 'best'] },
  { name: 'lr 0.001 sgd', lr: 0.001, optimizer: 'sgd', final: 0.84, tags: [] },
  { name: 'lr 0.0001 sgd', lr: 0.0001, optimizer: 'sgd', final: 0.55, tags: [] },
  { name: 'lr 0.003 adam', lr: 0.003, optimizer: 'adam', final: 0.88, tags: [] },
] as const

export function seedStudy(dataDir: string, steps = 20): SeededRun[] {
  const store = new Store({ dataDir })
  try {
    return STUDY.map((s, k) => {
      const run = store.runs.create({ name: s.name, kind: 'train', experiment: 'lr-study' })
      store.runs.markActive(run.uuid, 'RUNNING', { pid: process.pid, host: 'seed' })
      const params: Record<string, string> = { lr: String(s.lr), optimizer: s.optimizer, architecture: 'mlp-tfc', batch: '64', seed: String(k + 1) }
      for (const [key, value] of Object.entries(params)) store.runs.logParam(run.uuid, key, value)
      const t0 = Date.now()
      const points = Array.from({ length: steps }, (_, step) => {
        const progress = (step + 1) / steps
        return [
          { key: 'loss', value: 2.3 * (1 - progress * s.final) + 0.02 * Math.sin(step + k), step, time: t0 + step * 100 },
          { key: 'test_accuracy', value: 0.1 + (s.final - 0.1) * progress, step, time: t0 + step * 100 },
        ]
      }).flat()
      store.runs.logMetrics(run.uuid, points)
      for (const tag of s.tags) store.runs.addTag(run.uuid, tag)
      // The first two share their model file byte for byte; the others differ.
      store.runs.writeArtifact(run.uuid, 'model/model.json', JSON.stringify({ architecture: 'mlp-tfc', weights: k < 2 ? 'shared' : `own-${k}` }))
      store.runs.finish(run.uuid, 'FINISHED')
      return { uuid: run.uuid, name: s.name, params }
    })
  } finally {
    store.close()
  }
}

// Cluster overhead on a one-node SLURM cluster started here (the test fixture: slurmctld, slurmd, munge, as root):
// submit → first result per task, and the wall time of a robustness study run locally vs fanned out over 2 task slots.
// Run as root: node --import tsx bench/cluster.ts [--repeats 5] [--architecture lenet5] [--epochs 2]. Prints JSON.
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { benchCore } from './bench-core.ts'
import { SlurmCluster, slurmAvailable } from '../tests/helpers/slurm-cluster.ts'

const { values } = parseArgs({
  options: { repeats: { type: 'string', default: '5' }, epochs: { type: 'string', default: '2' }, architecture: { type: 'string', default: 'lenet5' } },
})
const repeats = Number(values.repeats)
if (!slurmAvailable()) throw new Error('This bench needs root and the Debian packages slurmctld, slurmd, slurm-client and munge.')

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const cluster = new SlurmCluster()
await cluster.start()
process.env.BENCHSIDE_CLUSTER_POLL_MS ??= '250'
const bench = benchCore('cluster')
const { core } = bench
try {
  await core.api.addCluster({
    name: 'local',
    login: { kind: 'local' },
    partition: cluster.partition,
    benchsideDir: process.cwd(),
    workDir: `${cluster.dir}/work`,
    cpusPerTask: 1,
    maxParallel: 2,
  })

  /**
   * From asking for the job to its first metric point (stamped by the task when it logged it: the host and the node
   * share this clock), and to its end.
   */
  async function firstResult(executor: { kind: 'slurm'; cluster: string } | undefined): Promise<{ first: number; total: number }> {
    const t0 = Date.now()
    const uuid = await bench.run({ kind: 'selftest', params: { seconds: 0.5, metricsPerSecond: 20 }, executor })
    const total = Date.now() - t0
    const first = Math.min(...(await core.api.getRun({ run: uuid })).metrics.map((m) => m.time)) - t0
    return { first, total }
  }

  const local: { first: number; total: number }[] = []
  const slurm: { first: number; total: number }[] = []
  for (let i = 0; i < repeats; i++) {
    local.push(await firstResult(undefined))
    slurm.push(await firstResult({ kind: 'slurm', cluster: 'local' }))
  }

  const study = {
    architecture: values.architecture!,
    epochs: Number(values.epochs),
    repeats: 1,
    noisySigmas: [0.5],
    qatBits: [4, 8],
    qatScales: [0.2],
    evaluation: { from: 1e-2, to: 1e2, count: 9, repeats: 1, walking: true, limit: 1000 },
  }
  const load = [loadavg()[0]!]
  let t = performance.now()
  await bench.run({ kind: 'robustness-study', params: study })
  const studyLocal = (performance.now() - t) / 1000
  load.push(loadavg()[0]!)
  t = performance.now()
  await bench.run({ kind: 'robustness-study', params: study, executor: { kind: 'slurm', cluster: 'local' } })
  const studySlurm = (performance.now() - t) / 1000
  load.push(loadavg()[0]!)

  const ms = (xs: number[]) => ({ median: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) })
  console.log(
    JSON.stringify(
      {
        machine: { cores: cpus().length, cpu: cpus()[0]?.model, loadAverage1m: load.map((l) => Number(l.toFixed(2))) },
        selftest: {
          what: 'submit → first stored metric, and submit → FINISHED, of a 0.5 s selftest; ms',
          repeats,
          local: { first: ms(local.map((r) => r.first)), total: ms(local.map((r) => r.total)) },
          slurm: { first: ms(slurm.map((r) => r.first)), total: ms(slurm.map((r) => r.total)) },
          overheadPerTaskMs: Math.round(median(slurm.map((r) => r.first)) - median(local.map((r) => r.first))),
        },
        robustnessStudy: {
          what: `${study.architecture}, 4 trainings (float, noisy 0.5, QAT 4 and 8 bits) × ${study.epochs} epoch(s), global + walking noise on 1000 test samples`,
          localSeconds: Number(studyLocal.toFixed(1)),
          slurmTwoSlotsSeconds: Number(studySlurm.toFixed(1)),
          speedup: Number((studyLocal / studySlurm).toFixed(2)),
        },
      },
      null,
      2,
    ),
  )
} finally {
  bench.close()
  await cluster.remove()
}

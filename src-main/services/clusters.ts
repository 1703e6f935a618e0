// Clusters: profiles (added only once a test job ran on them), the test itself, the check made before a job is sent
// to a cluster, and the cluster jobs the job manager runs.
import { hostname } from 'node:os'
import { z } from 'zod'
import { posix } from 'node:path'
import { BenchsideError, ClusterProfile, type ClusterTest, type Executor, type JobSpec } from '../contract/index.ts'
import { ClusterJob } from '../jobs/cluster/cluster-job.ts'
import { LocalShell, SshShell, type ClusterShell } from '../jobs/cluster/shell.ts'
import { cancelJobs, oneLine, placementArgs, queryJobs, sbatchError } from '../jobs/cluster/slurm.ts'
import { checkClusterKind } from '../jobs/cluster/task-plan.ts'
import type { JobProcess } from '../jobs/protocol.ts'
import type { Store } from '../store/store.ts'
import { knownHostsOf } from './boards.ts'
import { shellQuote } from '../hardware/ssh-connect.ts'
import type { HandlersFor } from './handlers.ts'

type ClusterMethod = 'listClusters' | 'addCluster' | 'testCluster' | 'removeCluster'

/** How long "test cluster" waits for its tiny job: a busy partition may queue it, which the message then says. */
const TEST_TIMEOUT_MS = Number(process.env.BENCHSIDE_CLUSTER_TEST_TIMEOUT_MS ?? 60_000)

export class ClusterService {
  constructor(private readonly store: Store) {}

  shellFor(profile: ClusterProfile): ClusterShell {
    return profile.login.kind === 'local' ? new LocalShell() : new SshShell(profile.login, knownHostsOf(this.store), profile.name)
  }

  profile(name: string): ClusterProfile {
    const profile = this.store.clusters.get(name)
    if (!profile) {
      const known = this.store.clusters.list().map((p) => p.name)
      throw new BenchsideError({
        code: 'NOT_FOUND',
        message: `No cluster named '${name}'. ${known.length ? `Clusters: ${known.join(', ')}.` : 'Add one with benchside clusters add (or in Devices).'}`,
      })
    }
    return profile
  }

  /**
   * What must hold before a job goes to a cluster, checked on the login host in a second or two: SLURM answers, the
   * partition exists, Benchside is installed where the profile says, the working folder can be written. A job that
   * fails here leaves no run behind.
   */
  async preflight(executor: Executor, spec: JobSpec): Promise<void> {
    if (executor.kind !== 'slurm') return
    checkClusterKind(spec.kind)
    const profile = this.profile(executor.cluster)
    const shell = this.shellFor(profile)
    try {
      await this.checkLoginHost(profile, shell)
    } finally {
      shell.close()
    }
  }

  private async checkLoginHost(profile: ClusterProfile, shell: ClusterShell): Promise<{ slurmVersion: string; partition: string }> {
    const version = await shell.run(['sinfo', '--version'], 20_000)
    if (version.code !== 0) {
      throw new BenchsideError({
        code: 'UNAVAILABLE',
        message: `SLURM does not answer on ${shell.label} (sinfo --version: ${oneLine(version.stderr) || `exit ${version.code}`}). Install the SLURM client tools there (Debian: slurm-client) and check that slurmctld runs.`,
      })
    }
    const partitions = await shell.run(['sinfo', '-h', '-o', '%P'], 20_000)
    const names = partitions.stdout
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean)
    const byDefault = names.find((p) => p.endsWith('*'))?.replace(/\*$/, '')
    const plain = names.map((p) => p.replace(/\*$/, ''))
    if (profile.partition && !plain.includes(profile.partition)) {
      throw new BenchsideError({
        code: 'INVALID_ARGS',
        message: `The partition '${profile.partition}' does not exist on cluster ${profile.name}. Its partitions: ${plain.join(', ') || '(none)'}.`,
      })
    }
    const install = await shell.run(['test', '-f', posix.join(profile.benchsideDir, 'bin', 'benchside.js')], 20_000)
    if (install.code !== 0) {
      throw new BenchsideError({
        code: 'INVALID_ARGS',
        message: `Benchside is not installed at ${profile.benchsideDir} on ${shell.label} (no bin/benchside.js there). Clone Benchside there and run npm install, or fix the profile's installation path.`,
      })
    }
    const work = await shell.run(['mkdir', '-p', profile.workDir], 20_000)
    if (work.code !== 0) {
      throw new BenchsideError({
        code: 'INVALID_ARGS',
        message: `The working folder ${profile.workDir} cannot be created on ${shell.label}: ${oneLine(work.stderr)}.`,
      })
    }
    // sinfo prints "slurm 23.02.1" or Debian's "slurm-wlm 22.05.8": the version is the number.
    const slurmVersion = /\d+\.\d+(\.\d+)?/.exec(version.stdout)?.[0] ?? oneLine(version.stdout)
    return { slurmVersion, partition: profile.partition ?? byDefault ?? '(default)' }
  }

  /** Checks the login host, then runs `benchside worker --probe` as a job on a node and reads what it printed. */
  async test(profile: ClusterProfile): Promise<ClusterTest> {
    const shell = this.shellFor(profile)
    const started = Date.now()
    try {
      const { slurmVersion, partition } = await this.checkLoginHost(profile, shell)
      const folder = posix.join(profile.workDir, '.test')
      const tag = `${Date.now()}-${process.pid}`
      const out = posix.join(folder, `probe-${tag}.out`)
      const err = posix.join(folder, `probe-${tag}.err`)
      await shell.run(['mkdir', '-p', folder])
      const command = `${shellQuote(profile.nodePath)} ${shellQuote(posix.join(profile.benchsideDir, 'bin', 'benchside.js'))} worker --probe`
      const args = ['sbatch', '--parsable', '--job-name=benchside-test', `--output=${out}`, `--error=${err}`, ...placementArgs(profile, 1), `--wrap=${command}`]
      const submitted = await shell.run(args, 60_000)
      const jobId = submitted.stdout.trim().split(';')[0]
      if (submitted.code !== 0 || !jobId) throw sbatchError(profile, shell, submitted.stderr || submitted.stdout)
      let state = 'PENDING'
      let reason = ''
      let node = ''
      for (;;) {
        const [task] = await queryJobs(shell, [jobId])
        if (task) ({ state, reason, node } = task)
        if (!task || !['pending', 'running'].includes(task.phase)) break
        if (Date.now() - started > TEST_TIMEOUT_MS) {
          await cancelJobs(shell, [jobId]).catch(() => {})
          throw new BenchsideError({
            code: 'UNAVAILABLE',
            message: `The test job ${jobId} on cluster ${profile.name} was still ${state}${reason ? ` (${reason})` : ''} after ${TEST_TIMEOUT_MS / 1000} s and was cancelled. The partition may be busy; test again later.`,
          })
        }
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
      const printed = (await shell.readFrom(out, 0))?.toString('utf8') ?? ''
      const line = printed.split('\n').find((l) => l.startsWith('{'))
      const answer = line ? parseProbe(line) : null
      if (!answer) {
        const stderr = ((await shell.readFrom(err, 0))?.toString('utf8') ?? '').trim().split('\n').slice(-6).join(' | ')
        throw new BenchsideError({
          code: 'INVALID_ARGS',
          message: `The test job ran${node ? ` on node ${node}` : ''} (${state}) but could not start Benchside there with ${profile.nodePath} ${profile.benchsideDir}/bin/benchside.js: ${stderr || 'it printed nothing'}. Install Node.js and Benchside on the nodes (docs/clusters.md).`,
        })
      }
      return {
        cluster: profile.name,
        slurmVersion,
        partition,
        node: answer.host,
        benchsideVersion: answer.benchside,
        nodeVersion: answer.node,
        seconds: (Date.now() - started) / 1000,
      }
    } finally {
      shell.close()
    }
  }

  /** The job manager's way to run a run placed on a cluster. */
  launch(runUuid: string, reattach: boolean): JobProcess | null {
    const placement = this.store.clusters.placementOf(runUuid)
    if (!placement) return null
    const profile = this.profile(placement.cluster)
    return new ClusterJob({
      store: this.store,
      runUuid,
      profile,
      shell: this.shellFor(profile),
      artifactDir: posix.join(this.store.artifactsDir, runUuid),
      reattach,
      pollMs: Number(process.env.BENCHSIDE_CLUSTER_POLL_MS ?? 1000),
    })
  }

  /** Cluster runs whose host died, taken over by this process (one process wins each). */
  adoptOrphans(isAlive: (pid: number) => boolean): string[] {
    return this.store.clusters.adoptOrphans({ pid: process.pid, host: hostname() }, isAlive)
  }
}

/** What `benchside worker --probe` printed on the node. */
const ProbeAnswer = z.object({ benchside: z.string(), node: z.string(), host: z.string() })

function parseProbe(line: string): z.infer<typeof ProbeAnswer> | null {
  try {
    const parsed = ProbeAnswer.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export function clusterHandlers(store: Store, clusters: ClusterService): HandlersFor<ClusterMethod> {
  return {
    listClusters: () => store.clusters.list(),
    addCluster: async (profile) => {
      // Tested first and stored only when the test passed: a profile that cannot run a job is never half-registered.
      const tested = await clusters.test(ClusterProfile.parse(profile))
      store.clusters.save(profile)
      return tested
    },
    testCluster: ({ name }) => clusters.test(clusters.profile(name)),
    removeCluster: ({ name }) => ({ removed: store.clusters.remove(name) }),
  }
}

// benchside clusters add|list|test|remove, the --executor/--cluster options of every job that can run on a cluster,
// and `benchside worker`, which runs one task of such a job on a cluster node.
import type { Command } from 'commander'
import { BenchsideError, ClusterProfile, type ClusterTest, type Executor } from '../contract/index.ts'
import { checked, type OpenApi } from './api.ts'
import { printJson, printTable } from './output.ts'
import type { JobLauncher } from '../jobs/protocol.ts'
import { version } from '../services/app.ts'

/** Adds --executor and --cluster to a job command. */
export function withExecutor(command: Command): Command {
  return command
    .option('--executor <where>', 'local (a process here, the default) or slurm (a SLURM cluster; needs --cluster)')
    .option('--cluster <name>', 'the cluster profile to run on (benchside clusters list)')
}

/** The executor the options name; undefined for a local run. */
export function executorOf(o: { executor?: string; cluster?: string }): Executor | undefined {
  const kind = o.executor ?? (o.cluster ? 'slurm' : 'local')
  if (kind === 'local') {
    if (o.cluster) throw new BenchsideError({ code: 'INVALID_ARGS', message: '--cluster goes with --executor slurm; drop one of them.' })
    return undefined
  }
  if (kind !== 'slurm') throw new BenchsideError({ code: 'INVALID_ARGS', message: `--executor must be local or slurm, got ${kind}.` })
  if (!o.cluster) throw new BenchsideError({ code: 'INVALID_ARGS', message: '--executor slurm needs --cluster <name> (benchside clusters list).' })
  return { kind: 'slurm', cluster: o.cluster }
}

function printTest(test: ClusterTest): void {
  console.log(
    `Cluster ${test.cluster} works: SLURM ${test.slurmVersion}, partition ${test.partition}; the test job ran on ${test.node} with Benchside ${test.benchsideVersion} on Node ${test.nodeVersion} (${test.seconds.toFixed(1)} s).`,
  )
}

export function registerClusterCommands(program: Command, openApi: OpenApi, launcher: JobLauncher): void {
  const clusters = program.command('clusters').description('SLURM clusters that jobs can run on (--executor slurm --cluster <name>)')

  clusters
    .command('add <name>')
    .description('adds a cluster profile after a test job ran on it; nothing is kept when the test fails')
    .option('--login <where>', "'local' (sbatch on this machine) or user@host[:port] of the login host over SSH", 'local')
    .option('--key <file>', 'SSH private key for the login host (default: ssh-agent)')
    .requiredOption('--benchside-dir <path>', 'the Benchside checkout on the nodes (after npm install)')
    .requiredOption('--work-dir <path>', 'a folder on the shared file system for task files and results')
    .option('--partition <name>', 'partition (default: the cluster’s default)')
    .option('--account <name>', 'account to charge')
    .option('--time <limit>', 'time limit per task, minutes or h:mm:ss (default: 1:00:00)')
    .option('--cpus <n>', 'CPUs per task (default: 2)', Number)
    .option('--mem <mb>', 'memory per task in MB (default: the partition’s)', Number)
    .option('--node <path>', 'the Node.js binary on the nodes (default: node)')
    .option('--parallel <k>', 'tasks of one job running at once (default: 4)', Number)
    .option('--retries <n>', 'times a failed task is submitted again (default: 1)', Number)
    .option('--json', 'print the test as JSON')
    .action(async (name: string, o) => {
      const login = o.login === 'local' ? { kind: 'local' } : sshLogin(String(o.login), o.key)
      const profile = checked(ClusterProfile, {
        name,
        login,
        partition: o.partition,
        account: o.account,
        timeLimit: o.time,
        cpusPerTask: o.cpus,
        memoryMb: o.mem,
        nodePath: o.node,
        benchsideDir: o.benchsideDir,
        workDir: o.workDir,
        maxParallel: o.parallel,
        retries: o.retries,
      })
      const test = await (await openApi()).addCluster(profile)
      if (o.json) return printJson(test)
      printTest(test)
      console.log(`Added cluster ${name}. Run a job there with --executor slurm --cluster ${name}.`)
    })

  clusters
    .command('list')
    .description('the cluster profiles')
    .option('--json', 'print as JSON')
    .action(async (o) => {
      const list = await (await openApi()).listClusters({})
      if (o.json) return printJson(list)
      if (list.length === 0) return console.log('No clusters yet; add one with benchside clusters add.')
      printTable(
        ['name', 'login', 'partition', 'per task', 'parallel', 'installation', 'working folder'],
        list.map((p) => [
          p.name,
          p.login.kind === 'local' ? 'this machine' : `${p.login.username}@${p.login.host}:${p.login.port}`,
          p.partition ?? '(default)',
          `${p.cpusPerTask} CPU${p.memoryMb ? `, ${p.memoryMb} MB` : ''}, ${p.timeLimit}`,
          String(p.maxParallel),
          p.benchsideDir,
          p.workDir,
        ]),
      )
    })

  clusters
    .command('test <name>')
    .description('submits a tiny job to the cluster and reads its output')
    .option('--json', 'print as JSON')
    .action(async (name: string, o) => {
      const test = await (await openApi()).testCluster({ name })
      if (o.json) return printJson(test)
      printTest(test)
    })

  clusters
    .command('remove <name>')
    .description('forgets a cluster profile (jobs that ran there stay in the history)')
    .action(async (name: string) => {
      const { removed } = await (await openApi()).removeCluster({ name })
      if (!removed) throw new BenchsideError({ code: 'NOT_FOUND', message: `No cluster named '${name}'.` })
      console.log(`Removed cluster ${name}.`)
    })

  program
    .command('worker [task]')
    .description('runs one task of a cluster job on this node (started by SLURM, not by hand)')
    .option('--probe', 'print the Benchside and Node versions and exit (the cluster test runs this)')
    .action(async (task: string | undefined, o) => {
      const { probe, runTask } = await import('../jobs/cluster/worker.ts')
      if (o.probe) return console.log(probe(version))
      if (!task) throw new BenchsideError({ code: 'INVALID_ARGS', message: 'benchside worker needs a task file.' })
      process.exitCode = await runTask(task, launcher)
    })
}

function sshLogin(text: string, keyPath: string | undefined): unknown {
  const match = /^([^@\s]+)@([^:\s]+)(?::(\d+))?$/.exec(text)
  if (!match) throw new BenchsideError({ code: 'INVALID_ARGS', message: `--login must be 'local' or user@host[:port], got ${text}.` })
  return { kind: 'ssh', username: match[1], host: match[2], port: match[3] ? Number(match[3]) : 22, keyPath }
}

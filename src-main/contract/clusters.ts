// SLURM clusters: profiles (how to reach the login host, where jobs run, what runs there), the test that proves a
// profile works, and where a job runs (its placement), as the job tray and the CLI show it.
import { z } from 'zod'
import { method } from './define.ts'

const ClusterName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'A cluster name is lower-case letters, digits, - and _ (up to 41 characters).')

/** An absolute POSIX path on the cluster; checked there at "test cluster". */
const ClusterPath = z
  .string()
  .trim()
  .regex(/^\/[^\0\n]*$/, 'Give an absolute path on the cluster (it starts with /).')
/** sbatch option values are passed as single arguments; these keep them to what SLURM accepts. */
const SlurmWord = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.,:-]{1,64}$/, 'Use letters, digits and . _ , : - only.')

export const ClusterLogin = z.discriminatedUnion('kind', [
  /** sbatch, squeue and scontrol on this machine's PATH; the working folder is on a file system the nodes share. */
  z.object({ kind: z.literal('local') }),
  /** A login host over SSH (ssh2), with the same trust-on-first-use host-key check as boards. */
  z.object({
    kind: z.literal('ssh'),
    host: z.string().trim().min(1, 'Give the login host’s name or address.').max(255),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().trim().min(1, 'Give the user to log in as.').max(64),
    /** A private key file; without one, the ssh-agent (SSH_AUTH_SOCK) is used. */
    keyPath: z.string().trim().min(1).optional(),
  }),
])
export type ClusterLogin = z.output<typeof ClusterLogin>

export const ClusterProfile = z.object({
  name: ClusterName,
  login: ClusterLogin,
  /** Omitted: the cluster's default partition. */
  partition: SlurmWord.optional(),
  account: SlurmWord.optional(),
  /** Per task, as sbatch --time takes it: minutes, or [days-]hours:minutes:seconds. */
  timeLimit: z
    .string()
    .trim()
    .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, 'Give the time limit as minutes or hours:minutes:seconds, e.g. 60 or 2:00:00.')
    .default('1:00:00'),
  cpusPerTask: z.number().int().min(1).max(256).default(2),
  /** Omitted: the partition's default. */
  memoryMb: z.number().int().min(64).max(4_194_304).optional(),
  /** The Node.js binary on the nodes. */
  nodePath: z.string().trim().min(1).max(1024).default('node'),
  /** A Benchside checkout on the nodes (built with npm install): bin/benchside.js runs the tasks. */
  benchsideDir: ClusterPath,
  /** On a file system the nodes and the login host share: task files, inputs and results go here, one folder per run. */
  workDir: ClusterPath,
  /** Tasks of one job running at once (the array's %K). */
  maxParallel: z.number().int().min(1).max(1000).default(4),
  /** A task that fails or times out is submitted again this many times before the job fails. */
  retries: z.number().int().min(0).max(10).default(1),
})
export type ClusterProfile = z.output<typeof ClusterProfile>

export const ClusterTest = z.object({
  cluster: z.string(),
  slurmVersion: z.string(),
  partition: z.string(),
  /** The node the test job ran on. */
  node: z.string(),
  benchsideVersion: z.string(),
  nodeVersion: z.string(),
  /** From submitting the test job to reading its output. */
  seconds: z.number(),
})
export type ClusterTest = z.infer<typeof ClusterTest>

/** Where a job runs. */
export const Executor = z.discriminatedUnion('kind', [z.object({ kind: z.literal('local') }), z.object({ kind: z.literal('slurm'), cluster: ClusterName })])
export type Executor = z.output<typeof Executor>

export const TaskCounts = z.object({
  pending: z.number().int(),
  running: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
})
export type TaskCounts = z.infer<typeof TaskCounts>

/** A job's place as the tray shows it: on the cluster, its SLURM job ids, tasks by state and SLURM's reason. */
export const Placement = z.object({
  cluster: z.string(),
  slurmJobIds: z.array(z.string()),
  tasks: TaskCounts,
  /** SLURM's reason for pending tasks (Priority, Resources…), or the last retry; empty when there is none. */
  reason: z.string(),
})
export type Placement = z.infer<typeof Placement>

export const clusterMethods = {
  listClusters: method(z.object({}).default({}), z.array(ClusterProfile), 'Cluster profiles, as added.'),
  addCluster: method(ClusterProfile, ClusterTest, 'Tests a cluster profile (a tiny job submitted and read back) and keeps it only if the test passed.'),
  testCluster: method(z.object({ name: ClusterName }), ClusterTest, 'Submits a tiny job to a stored cluster and reads its output.'),
  removeCluster: method(z.object({ name: ClusterName }), z.object({ removed: z.boolean() }), 'Forgets a cluster profile.'),
}

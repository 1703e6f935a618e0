// The SLURM output Benchside reads (scontrol show job -o) and the sbatch command it builds.
import { describe, expect, it } from 'vitest'
import { ClusterProfile } from '../../../../src-main/contract/index.ts'
import { compactIndices, expandIndices, parseJobLines, phaseOf, sbatchArgs } from '../../../../src-main/jobs/cluster/slurm.ts'

// As SLURM 22.05 prints them (trimmed): two finished array tasks, a pending remainder on one line, a plain job.
const OUTPUT = [
  'JobId=13 ArrayJobId=12 ArrayTaskId=1 ArrayTaskThrottle=2 JobName=benchside-1 UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) BatchHost=vm NodeList=vm',
  'JobId=12 ArrayJobId=12 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=benchside-1 UserId=root(0) JobState=RUNNING Reason=None BatchHost=vm NodeList=vm',
  'JobId=12 ArrayJobId=12 ArrayTaskId=2-4,7%2 ArrayTaskThrottle=2 JobName=benchside-1 JobState=PENDING Reason=JobArrayTaskLimit Dependency=(null) NodeList=(null)',
  'JobId=20 JobName=wrap UserId=root(0) JobState=TIMEOUT Reason=TimeLimit BatchHost=vm NodeList=vm',
  '',
].join('\n')

describe('slurm', () => {
  it('reads one state per array task, expanding the pending ranges', () => {
    const states = parseJobLines(OUTPUT)
    expect(states.map((s) => [s.jobId, s.index, s.state, s.phase, s.reason])).toEqual([
      ['12', 1, 'COMPLETED', 'completed', ''],
      ['12', 0, 'RUNNING', 'running', ''],
      ['12', 2, 'PENDING', 'pending', 'JobArrayTaskLimit'],
      ['12', 3, 'PENDING', 'pending', 'JobArrayTaskLimit'],
      ['12', 4, 'PENDING', 'pending', 'JobArrayTaskLimit'],
      ['12', 7, 'PENDING', 'pending', 'JobArrayTaskLimit'],
      ['20', null, 'TIMEOUT', 'failed', 'TimeLimit'],
    ])
    expect(states[0]!.node).toBe('vm')
    expect(states[2]!.node).toBe('')
  })

  it('folds every end state SLURM has into what Benchside does next', () => {
    for (const state of ['FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED']) expect(phaseOf(state)).toBe('failed')
    expect(phaseOf('CANCELLED')).toBe('cancelled')
    expect(phaseOf('COMPLETING')).toBe('running')
    expect(phaseOf('REQUEUED')).toBe('pending')
  })

  it('writes and reads --array index lists', () => {
    expect(compactIndices([5, 0, 1, 2, 7, 8, 2])).toBe('0-2,5,7-8')
    expect(expandIndices('0-2,5,7-8%3')).toEqual([0, 1, 2, 5, 7, 8])
    expect(expandIndices(compactIndices([3]))).toEqual([3])
  })

  it('builds sbatch arguments from the profile, one word each', () => {
    const profile = ClusterProfile.parse({
      name: 'hpc',
      login: { kind: 'local' },
      benchsideDir: '/opt/b',
      workDir: '/scratch/w',
      partition: 'gpu',
      memoryMb: 2048,
    })
    const args = sbatchArgs(profile, { script: '/scratch/w/r/task.sh', indices: [0, 1, 3], name: 'benchside-ab', runDir: '/scratch/w/r', attempt: 2 })
    expect(args).toEqual([
      'sbatch',
      '--parsable',
      '--job-name=benchside-ab',
      '--array=0-1,3%4',
      '--output=/scratch/w/r/task-%a.attempt-2.out',
      '--error=/scratch/w/r/task-%a.attempt-2.err',
      '--chdir=/scratch/w/r',
      '--cpus-per-task=2',
      '--time=1:00:00',
      '--partition=gpu',
      '--mem=2048M',
      '/scratch/w/r/task.sh',
    ])
  })

  it('refuses profile values that would smuggle options or shell words into sbatch', () => {
    const base = { name: 'hpc', login: { kind: 'local' }, benchsideDir: '/opt/b', workDir: '/w' }
    expect(ClusterProfile.safeParse({ ...base, partition: 'a --wrap=rm' }).success).toBe(false)
    expect(ClusterProfile.safeParse({ ...base, timeLimit: '1:00; rm -rf /' }).success).toBe(false)
    expect(ClusterProfile.safeParse({ ...base, workDir: 'relative/dir' }).success).toBe(false)
  })
})

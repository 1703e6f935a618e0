// A real one-node SLURM cluster on this machine for tests: munged, slurmctld and slurmd from Debian, run as root without
// systemd from a temporary folder (own munge key and socket, own ports), stopped and removed afterwards. Clients find it
// through SLURM_CONF, which the tests set in process.env (the job's children and SLURM tasks inherit it).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../integration/hardware/sshd-fixture.ts'

const PROGRAMS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'sinfo']

function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program} || test -x /usr/sbin/${program}`]).status === 0
}

/** SLURM and munge are installed and we are root (slurmd runs tasks as their user; root keeps the fixture simple). */
export function slurmAvailable(): boolean {
  return process.getuid?.() === 0 && PROGRAMS.every(onPath)
}

export class SlurmCluster {
  readonly dir: string
  readonly conf: string
  readonly node = hostname().split('.')[0]!
  readonly partition = 'bench'

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'benchside-slurm-'))
    this.conf = join(this.dir, 'slurm.conf')
  }

  async start(): Promise<void> {
    const d = this.dir
    for (const sub of ['state', 'spool', 'munge']) mkdirSync(join(d, sub), { recursive: true, mode: 0o700 })
    // munged wants its socket folder reachable by clients and its key private.
    chmodSync(join(d, 'munge'), 0o755)
    chmodSync(d, 0o755)
    writeFileSync(join(d, 'munge', 'key'), randomBytes(128), { mode: 0o600 })
    const ctldPort = await freePort()
    const slurmdPort = await freePort()
    writeFileSync(
      this.conf,
      [
        'ClusterName=benchside-test',
        `SlurmctldHost=${this.node}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'AuthType=auth/munge',
        `AuthInfo=socket=${join(d, 'munge', 'sock')}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        `StateSaveLocation=${join(d, 'state')}`,
        `SlurmdSpoolDir=${join(d, 'spool')}`,
        `SlurmctldPidFile=${join(d, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(d, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(d, 'slurmctld.log')}`,
        `SlurmdLogFile=${join(d, 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SchedulerType=sched/backfill',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'AccountingStorageType=accounting_storage/none',
        'JobAcctGatherType=jobacct_gather/none',
        'JobCompType=jobcomp/none',
        'ReturnToService=2',
        'MpiDefault=none',
        // Finished jobs stay visible to scontrol for a while; tests also cover what happens once they are gone.
        'MinJobAge=120',
        'KillWait=2',
        `NodeName=${this.node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
        `PartitionName=${this.partition} Nodes=${this.node} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    )
    const m = join(d, 'munge')
    execFileSync('munged', [
      '-f',
      `--key-file=${join(m, 'key')}`,
      `--socket=${join(m, 'sock')}`,
      `--pid-file=${join(m, 'pid')}`,
      `--log-file=${join(m, 'log')}`,
      `--seed-file=${join(m, 'seed')}`,
    ])
    execFileSync('slurmctld', ['-f', this.conf])
    execFileSync('slurmd', ['-f', this.conf])
    process.env.SLURM_CONF = this.conf
    // Ready when the node is idle: jobs submitted before that wait for it.
    const deadline = Date.now() + 30_000
    for (;;) {
      const state = spawnSync('sinfo', ['-h', '-o', '%t', '-p', this.partition], { encoding: 'utf8', env: process.env }).stdout.trim()
      if (state === 'idle' || state === 'mix') return
      if (Date.now() > deadline) throw new Error(`The test SLURM node did not become idle in 30 s (state '${state}'): ${this.logs()}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  logs(): string {
    return ['slurmctld.log', 'slurmd.log']
      .map((f) => join(this.dir, f))
      .filter(existsSync)
      .map((f) => readFileSync(f, 'utf8').split('\n').slice(-15).join('\n'))
      .join('\n')
  }

  /** Stops the daemons and waits until they are gone (a daemon still writing its state would make the folder's removal fail). */
  async stop(): Promise<void> {
    // Jobs still queued or running end first, while their daemons are there to end them (a step left behind outlives us).
    spawnSync('scancel', ['--user', userInfo().username], { env: { ...process.env, SLURM_CONF: this.conf }, timeout: 10_000 })
    const pids: number[] = []
    for (const pidFile of ['slurmd.pid', 'slurmctld.pid', join('munge', 'pid')]) {
      const path = join(this.dir, pidFile)
      if (!existsSync(path)) continue
      const pid = Number(readFileSync(path, 'utf8').trim())
      try {
        process.kill(pid, 'SIGTERM')
        pids.push(pid)
      } catch {
        /* already gone */
      }
    }
    // Tasks still running under slurmstepd end with their daemons.
    spawnSync('pkill', ['-f', `slurmstepd.*${this.dir}`])
    const deadline = Date.now() + 10_000
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    if (process.env.SLURM_CONF === this.conf) delete process.env.SLURM_CONF
  }

  async remove(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

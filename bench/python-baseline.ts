// Runs a Python baseline (PyTorch or numpy) honestly: this environment sets OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE),
// which force slower BLAS kernels, so they are removed for the baseline command only, never for Benchside or tests.
// The script's JSON carries `baseline_env` (bench/python/blas_info.py): the kernel actually in use, threads and load.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PYTHON = '/usr/bin/python3'
const FORCED_BLAS_VARIABLES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const
const benchFolder = dirname(fileURLToPath(import.meta.url))

/** The environment for a baseline command: ours, without the variables that force slower BLAS kernels. */
export function nativeBlasEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: [join(benchFolder, 'python'), process.env.PYTHONPATH].filter(Boolean).join(':') }
  for (const name of FORCED_BLAS_VARIABLES) delete env[name]
  return env
}

/** Null when the modules import, else why the baseline is skipped. */
export function pythonMissing(modules: string[]): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`
  const probe = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8', env: nativeBlasEnv() })
  if (probe.status === 0) return null
  return `${modules.join(', ')} not importable by ${PYTHON} (apt-get install -y python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread)`
}

export interface BaselineRun<T> {
  report: T
  /** Load average (1 min) just before and just after the command. */
  load: { before: number; after: number }
  unsetVariables: readonly string[]
}

/** Runs `bench/<script>` with native BLAS kernels; its last stdout line is its JSON report. Throws with its stderr tail. */
export function runPythonBaseline<T>(script: string, args: string[], timeoutMs = 3600_000): BaselineRun<T> {
  const before = loadavg()[0]!
  const run = spawnSync(PYTHON, [join(benchFolder, script), ...args], { encoding: 'utf8', env: nativeBlasEnv(), timeout: timeoutMs, maxBuffer: 64 << 20 })
  const after = loadavg()[0]!
  if (run.status !== 0)
    throw new Error(`${script} failed: ${(run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').slice(-3).join(' | ')}`)
  return {
    report: JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as T,
    load: { before: round2(before), after: round2(after) },
    unsetVariables: FORCED_BLAS_VARIABLES,
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100

// The suite on a machine without socat, sshd and Chromium (a PATH that leaves them out, not the machine): tests that
// need them are skipped with reasons, one closing line names them and the install command, and the run passes. A file
// whose set-up fails counts as a failure in the closing line even though none of its tests ran.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installCommand } from '../../../src-main/services/system-components.ts'
import { pathWithout } from '../../helpers/components.ts'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const RUN_TIMEOUT_MS = 240_000

/** Runs vitest in a child process; resolves with its exit code and everything it printed, colours off. */
function runVitest(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', ...args], { cwd: root, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' } })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** The environment of this run, minus whatever vitest sets for its own workers. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_ENV') delete env[key]
  delete env.BENCHSIDE_CHROMIUM
  return env
}

describe('the suite on a machine without some system components', () => {
  let path: ReturnType<typeof pathWithout>
  let work: string

  beforeAll(() => {
    path = pathWithout(['socat', 'sshd', 'chromium', 'chromium-browser'])
    work = mkdtempSync(join(tmpdir(), 'benchside-suite-'))
  })
  afterAll(() => {
    path.remove()
    rmSync(work, { recursive: true, force: true })
  })

  it(
    'skips what needs socat, sshd or Chromium with the reasons, names them in one line, and passes',
    async () => {
      const files = ['tests/e2e/runs-view.e2e.test.ts', 'tests/integration/hardware/pty-pair.test.ts', 'tests/integration/hardware/openssh.test.ts']
      const { code, output } = await runVitest(files, { ...cleanEnv(), PATH: path.PATH })
      expect(code, output).toBe(0)
      const skippedLine = output.split('\n').find((line) => line.startsWith('Skipped for missing system components: '))
      expect(skippedLine, output).toBeDefined()
      expect(skippedLine).toMatch(/Chromium: \d+ tests? \(chromium was not found on PATH/)
      expect(skippedLine).toContain('socat: 1 test (socat was not found on PATH)')
      expect(skippedLine).toContain('OpenSSH server (sshd): 1 test (sshd was not found on PATH or in an sbin folder beside its bin folders)')
      if (installCommand()) expect(skippedLine!.endsWith(`Install them all with: ${installCommand()}`)).toBe(true)
      const totals = output.match(/^Tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m)
      expect(totals, output).not.toBeNull()
      const [passed, failed, skipped] = totals!.slice(1).map(Number)
      expect(failed).toBe(0)
      // The PTY helper's own tests ran: socat's absence skips only the fallback's.
      expect(passed).toBeGreaterThanOrEqual(6)
      expect(skipped).toBeGreaterThanOrEqual(3)
      expect(output.trimEnd().split('\n').at(-1)).toBe(totals![0])
    },
    RUN_TIMEOUT_MS + 30_000,
  )

  it(
    'counts a file that failed before any test ran as failed in the closing line',
    async () => {
      const config = join(work, 'vitest.fixture.config.mjs')
      writeFileSync(
        config,
        `export default { test: { include: ['tests/fixtures/setup-fails.fixture.ts'], pool: 'forks', reporters: ['default', ${JSON.stringify(join(root, 'tests/helpers/summary-reporter.ts'))}] } }\n`,
      )
      const { code, output } = await runVitest(['--config', config, '--root', root], cleanEnv())
      expect(code, output).toBe(1)
      expect(output).toContain('socat could not be started')
      expect(output).toMatch(/^Failed outside any test \(see the errors above\): tests\/fixtures\/setup-fails\.fixture\.ts$/m)
      expect(output.trimEnd().split('\n').at(-1)).toBe('Tests: 0 passed, 1 failed, 2 skipped')
    },
    RUN_TIMEOUT_MS + 30_000,
  )
})

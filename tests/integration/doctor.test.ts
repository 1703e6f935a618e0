// benchside doctor as a user runs it (a real process, a PATH without socat, sshd and chromium), and the same report
// through the API the Devices view calls.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DoctorReport } from '../../src-main/contract/index.ts'
import { createCore } from '../../src-main/core.ts'
import { nodeJobLauncher } from '../../src-main/jobs/node-launcher.ts'
import { installCommand, installHint, systemComponents } from '../../src-main/services/system-components.ts'
import { pathWithout } from '../helpers/components.ts'
import { tempHome } from '../helpers/temp-home.ts'

const bin = fileURLToPath(new URL('../../bin/benchside.js', import.meta.url))
const run = promisify(execFile)

const EXPECTED_IDS = [
  'node',
  'sqlite-node',
  'data-dir',
  'datasets',
  'tfjs-backend',
  'npm',
  'disk',
  'electron',
  'sqlite-electron',
  'cc',
  'pty',
  'socat',
  'sshd',
  'ssh-keygen',
  'chromium',
  'espeak-ng',
  'fashion-mnist',
  'slurm-client',
  'slurm-daemons',
]

describe('benchside doctor', () => {
  let home: ReturnType<typeof tempHome>
  let path: ReturnType<typeof pathWithout>

  beforeAll(() => {
    home = tempHome()
    path = pathWithout(['socat', 'sshd', 'chromium', 'chromium-browser'])
  })
  afterAll(() => {
    path.remove()
    home.remove()
  })

  it('--json: one line per piece, the missing ones with what they disable and their fix; exit 0 as the core works', async () => {
    const { stdout } = await run(process.execPath, [bin, 'doctor', '--json'], {
      env: { ...process.env, PATH: path.PATH, BENCHSIDE_HOME: join(home.dir, 'data'), BENCHSIDE_CHROMIUM: '' },
    })
    const report = DoctorReport.parse(JSON.parse(stdout))
    expect(report.checks.map((c) => c.id)).toEqual(EXPECTED_IDS)
    expect(report.coreWorks).toBe(true)
    for (const check of report.checks) {
      expect(check.label.length, check.id).toBeGreaterThan(0)
      expect(check.detail.length, check.id).toBeGreaterThan(0)
      if (check.status === 'ok') expect([check.disables, check.fix], check.id).toEqual([null, null])
      else expect([typeof check.disables, typeof check.fix], check.id).toEqual(['string', 'string'])
    }
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]))
    expect(byId['socat']).toMatchObject({ status: 'missing', detail: 'socat was not found on PATH', fix: installHint('socat') })
    expect(byId['socat']!.disables).toMatch(/demo board/)
    expect(byId['chromium']).toMatchObject({ status: 'missing', fix: installHint('chromium') })
    expect(byId['chromium']!.disables).toMatch(/browser/)
    expect(byId['sshd']).toMatchObject({ status: 'missing', fix: installHint('sshd') })
    for (const id of ['node', 'sqlite-node', 'data-dir', 'datasets']) expect(byId[id], id).toMatchObject({ status: 'ok', core: true })
    expect(byId['data-dir']!.detail).toContain(join(home.dir, 'data'))
    // The PTY pair does without socat where a compiler is at hand.
    if (byId['cc']!.status === 'ok') expect(byId['pty']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^Benchside's PTY helper/) })
    expect(report.installCommand).toBe(installCommand())
    if (process.platform === 'linux') for (const pkg of systemComponents().flatMap((c) => c.debian)) expect(report.installCommand).toContain(` ${pkg}`)
  }, 180_000)

  it('exits 1 and says what to do when the core cannot work (a data folder that cannot be made)', async () => {
    const file = join(home.dir, 'a-file')
    writeFileSync(file, 'not a folder')
    const failed = await run(process.execPath, [bin, 'doctor'], { env: { ...process.env, BENCHSIDE_HOME: join(file, 'data') } }).then(
      () => expect.unreachable('doctor should exit 1'),
      (error: { code: number; stdout: string }) => error,
    )
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/^missing +Data folder +.*cannot be created: .*a-file is a file, not a folder$/m)
    expect(failed.stdout).toMatch(/^ +fix: Set BENCHSIDE_HOME to a folder you can write/m)
    expect(failed.stdout).toMatch(/^Benchside cannot work here yet: Data folder is missing; see the fixes above\.$/m)
  }, 180_000)

  it('answers the same report through the API the Devices view uses', async () => {
    const core = createCore({ dataDir: join(home.dir, 'api'), host: 'web', launch: nodeJobLauncher })
    try {
      const report = DoctorReport.parse(await core.api.doctor({}))
      expect(report.checks.map((c) => c.id)).toEqual(EXPECTED_IDS)
      expect(report.coreWorks).toBe(true)
      expect(report.checks.find((c) => c.id === 'data-dir')!.detail).toContain(join(home.dir, 'api'))
      const reply = await core.router.handle('doctor', { unexpected: true })
      expect(reply.ok).toBe(true)
    } finally {
      core.close()
    }
  }, 120_000)
})

// A job started by the CLI against the same data folder (issue 13, item 7): it shows in the web tab's Jobs tray with
// its progress, the tray cancels it, the CLI process stops it and exits 130, and the run ends KILLED.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetail } from '../../src-main/contract/index.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'

const bin = fileURLToPath(new URL('../../bin/benchside.js', import.meta.url))

describe('a CLI job in the Jobs tray (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let dataDir = ''
  let cli: ChildProcess | null = null

  beforeAll(async () => {
    app = await openAppSession({ seed: (dir) => (dataDir = dir) })
  }, 180_000)

  afterAll(async () => {
    if (cli && cli.exitCode === null) cli.kill('SIGKILL')
    await app?.close()
  })

  it('shows the CLI job with its progress, cancels it from the tray, and the run ends KILLED', async () => {
    const { page, web } = app
    await page.goto(web.url)
    await page.getByTestId('runs-empty').waitFor({ timeout: 20_000 })
    const tray = page.getByTestId('jobs-tray')
    expect(await tray.textContent()).not.toMatch(/this window’s process/)
    expect(await tray.textContent()).toMatch(/command line/)

    let stderr = ''
    const child = spawn(process.execPath, [bin, 'jobs', 'run', 'selftest', '-p', 'seconds=120', '--name', 'cli selftest'], {
      env: { ...process.env, BENCHSIDE_HOME: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    cli = child
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

    const job = tray.getByTestId('job').filter({ hasText: 'cli selftest' })
    await job.waitFor({ timeout: 90_000 })
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 30_000 }).toBe('running')
    const run = (await job.getAttribute('data-run'))!
    // Progress moves, as the CLI's process reports it.
    const percent = () =>
      job
        .getByTestId('job-percent')
        .textContent()
        .then((t) => parseInt(t ?? '0'))
    await expect.poll(percent, { timeout: 20_000 }).toBeGreaterThan(0)

    // The same job after a reload: listed, not only relayed.
    await page.reload()
    await job.waitFor({ timeout: 20_000 })

    await job.getByTestId('cancel-job').click()
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 20_000 }).toBe('killed')
    expect(await exited).toBe(130)
    expect(stderr).toMatch(/KILLED/)
    const detail = await app.call<RunDetail>('getRun', { run })
    expect(detail.status).toBe('KILLED')
    await page.locator(`[data-testid=run-row][data-run="${run}"][data-status=KILLED]`).waitFor({ timeout: 20_000 })
    expect(app.pageErrors).toEqual([])
  }, 240_000)
})

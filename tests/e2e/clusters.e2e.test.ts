// SLURM clusters in the UI, in real Chromium against real web mode and a real one-node SLURM cluster: add a profile in
// Devices (a wrong partition is refused and nothing is kept), run a sweep on the cluster from the Robustness form, and
// see in the Jobs tray where it runs, its SLURM job id and its tasks by state.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { SlurmCluster } from '../helpers/slurm-cluster.ts'
import { waitFor } from '../helpers/temp-home.ts'

describe('SLURM clusters in web mode (Chromium)', requires('chromium', 'slurm-client', 'slurm-daemons'), () => {
  let cluster: SlurmCluster
  let app: AppSession
  let model: string

  beforeAll(async () => {
    process.env.BENCHSIDE_CLUSTER_POLL_MS = '300'
    cluster = new SlurmCluster()
    // Started first: web mode inherits SLURM_CONF and finds the cluster as a login shell would.
    await cluster.start()
    app = await openAppSession()
    model = (await app.trainTinyModel()).uuid
  }, 180_000)

  afterAll(async () => {
    await app?.close()
    await cluster?.remove()
    delete process.env.BENCHSIDE_CLUSTER_POLL_MS
  })

  it('adds a cluster in Devices after its test job, refusing a partition that does not exist', async () => {
    const { page } = app
    await app.openRoom('devices', 'clusters')
    expect(await page.getByTestId('no-clusters').isVisible()).toBe(true)
    const form = page.getByTestId('add-cluster')
    await form.getByLabel('Cluster name').fill('lab')
    await form.getByLabel('Login host').fill('local')
    await form.getByLabel('Partition').fill('nope')
    await form.getByLabel('CPUs per task').fill('1')
    await form.getByLabel('Benchside installation on the nodes').fill(process.cwd())
    await form.getByLabel('Working folder').fill(join(cluster.dir, 'work'))
    await form.getByRole('button', { name: 'Test and add cluster' }).click()
    await expect.poll(() => page.getByTestId('cluster-error').textContent(), { timeout: 30_000 }).toMatch(/partition 'nope' does not exist.*bench/)
    expect(await page.getByTestId('no-clusters').isVisible()).toBe(true)

    await form.getByLabel('Partition').fill(cluster.partition)
    await form.getByRole('button', { name: 'Test and add cluster' }).click()
    await expect
      .poll(() => page.getByTestId('cluster-message').textContent(), { timeout: 60_000 })
      .toMatch(/^Added: lab works: SLURM \d+\.\d+(\.\d+)?, partition bench; the test job ran on /)
    await page.locator('[data-testid=clusters-table] tr[data-cluster=lab]').waitFor()
    mkdirSync('test-results', { recursive: true })
    await app.shootWhole('test-results/devices-clusters.png')
    expect(app.pageErrors).toEqual([])
  }, 120_000)

  it('runs a sweep on the cluster from the form; the tray shows the cluster, the SLURM job and its tasks', async () => {
    const { page } = app
    await app.openRoom('robustness', 'start-sweep')
    await page.getByLabel('Model').selectOption(model)
    await page.getByLabel('Strategy').selectOption('grid')
    await page.getByLabel('Sigma from').fill('0.1')
    await page.getByLabel('Sigma to').fill('100')
    await page.getByLabel('Grid points').fill('4')
    await page.getByLabel('Repeats', { exact: true }).fill('1')
    await page.getByLabel('Sample limit').fill('300')
    await page.getByTestId('executor-select').selectOption('lab')
    await page.getByTestId('start-sweep').click()

    const tray = page.getByTestId('jobs-tray')
    if ((await tray.getAttribute('data-collapsed')) === 'true') await page.getByTestId('jobs-tray-toggle').click()
    const placement = page.locator('[data-testid=job] [data-testid=job-placement][data-where=lab]')
    await expect.poll(() => placement.textContent(), { timeout: 60_000 }).toMatch(/^cluster lab · SLURM \d+/)
    await expect.poll(() => placement.getByTestId('job-tasks').textContent(), { timeout: 60_000 }).toMatch(/\d+ done · \d+ running · \d+ pending/)
    await page.screenshot({ path: 'test-results/jobs-tray-cluster.png' })

    const [run] = await app.call<{ uuid: string }[]>('listRuns', { kind: 'sweep' })
    await waitFor(async () => (await app.call<{ status: string }>('getRun', { run: run!.uuid })).status === 'FINISHED', 180_000, 'the sweep on the cluster')
    const sweep = await app.call<{ scopes: unknown[] }>('getSweep', { run: run!.uuid })
    expect(sweep.scopes).toHaveLength(8)
    await expect.poll(() => page.locator('[data-testid=midpoint-bars] .bars .point').count(), { timeout: 30_000 }).toBe(8)
    expect(app.pageErrors).toEqual([])
  }, 300_000)
})

// The Robustness room in real Chromium against real web mode: run a walking-noise sweep from the form, see its plots.
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { waitFor } from '../helpers/temp-home.ts'
import type { WebMode } from '../helpers/web-mode.ts'

describe('Robustness view in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let web: WebMode
  let page: Page
  let pageErrors: string[]

  beforeAll(async () => {
    app = await openAppSession()
    ;({ web, page, pageErrors } = app)
    const run = await app.call<{ uuid: string }>('startJob', {
      kind: 'train',
      name: 'tiny mlp',
      params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 },
    })
    await waitFor(async () => (await app.call<{ status: string }>('getRun', { run: run.uuid })).status === 'FINISHED', 90_000, 'training')
  }, 120_000)

  afterAll(() => app?.close())

  it('runs a dense walking-noise sweep and shows midpoints, curves and the heatmap', async () => {
    await page.goto(web.url + '#/robustness')
    await page.getByText('No sweeps yet').waitFor()
    await page.getByLabel('Strategy').selectOption('grid')
    await page.getByLabel('Sigma from').fill('0.1')
    await page.getByLabel('Sigma to').fill('100')
    await page.getByLabel('Grid points').fill('7')
    await page.getByLabel('Repeats').fill('2')
    await page.getByLabel('Sample limit').fill('300')
    await page.getByTestId('start-sweep').click()

    // Eight points of MLP-TFC (flatten is skipped: it repeats its input).
    await expect.poll(() => page.locator('[data-testid=midpoint-bars] .bars .point').count(), { timeout: 90_000 }).toBe(8)
    await page.locator('[data-testid=sweep-heatmap] .main-svg').first().waitFor({ timeout: 20_000 })
    await expect.poll(() => page.locator('[data-testid=sweep-curves] .scatterlayer .trace').count()).toBe(8)
    await page.getByText('Weights of the swept models').waitFor()
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/robustness-view.png', fullPage: true })
    expect(pageErrors).toEqual([])
  }, 150_000)
})

// The Robustness room in real Chromium against real web mode: run a walking-noise sweep from the form, see its plots.
import { mkdirSync } from 'node:fs'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchChromium } from '../helpers/chromium.ts'
import { tempHome, waitFor } from '../helpers/temp-home.ts'
import { startWebMode, type WebMode } from '../helpers/web-mode.ts'

describe.skipIf(!hasChromium)('Robustness view in web mode (Chromium)', () => {
  let home: ReturnType<typeof tempHome>
  let web: WebMode
  let browser: BrowserContext
  let page: Page
  const pageErrors: string[] = []

  /** Calls the API the way scripts do: POST /api/<method> with the token. */
  async function call<T>(method: string, args: unknown): Promise<T> {
    const url = new URL(web.url)
    const response = await fetch(`${url.origin}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${url.searchParams.get('token')}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    })
    const reply = (await response.json()) as { ok: boolean; result: T; error?: { message: string } }
    if (!reply.ok) throw new Error(reply.error!.message)
    return reply.result
  }

  beforeAll(async () => {
    home = tempHome()
    web = await startWebMode(home.dir)
    const run = await call<{ uuid: string }>('startJob', { kind: 'train', name: 'tiny mlp', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
    await waitFor(async () => (await call<{ status: string }>('getRun', { run: run.uuid })).status === 'FINISHED', 90_000, 'training')
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`${message.text()} (${message.location().url})`)
    })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await web?.stop()
    home?.remove()
  })

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

// The Operators and Devices rooms in real Chromium against real web mode: measure a roofline on this computer.
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { hasChromium } from '../helpers/chromium.ts'
import type { WebMode } from '../helpers/web-mode.ts'

describe.skipIf(!hasChromium)('Operators and Devices in web mode (Chromium)', () => {
  let app: AppSession
  let web: WebMode
  let page: Page
  let pageErrors: string[]

  beforeAll(async () => {
    app = await openAppSession()
    ;({ web, page, pageErrors } = app)
  })

  afterAll(() => app?.close())

  it('lists this computer as a board and measures its roofline', async () => {
    await page.goto(web.url + '#/devices')
    await page.locator('[data-testid=boards-table] tr[data-board=local]').waitFor()

    await page.goto(web.url + '#/operators')
    await page.getByText('No measurements for this board yet').waitFor()
    await page.getByLabel('GEMM sizes').fill('64')
    await page.getByLabel('Bit widths').fill('1')
    await page.getByTestId('measure-roofline').click()
    const rows = page.locator('[data-testid=operators-table] tbody tr')
    await expect.poll(() => rows.count(), { timeout: 90_000 }).toBe(3)
    expect(await rows.allTextContents()).toEqual([
      expect.stringMatching(/^fp32 GEMM 64/),
      expect.stringMatching(/^int8 GEMM 64/),
      expect.stringMatching(/^bit-serial a1w1 GEMM 64/),
    ])
    await page.locator('[data-testid=roofline-plot] .main-svg').first().waitFor({ timeout: 20_000 })
    await expect.poll(() => page.locator('[data-testid=roofline-plot] .scatterlayer .trace').count()).toBeGreaterThanOrEqual(7)
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/operators-view.png', fullPage: true })
    expect(pageErrors).toEqual([])
  }, 120_000)
})

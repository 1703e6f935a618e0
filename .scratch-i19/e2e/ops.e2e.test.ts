// The Operators and Devices rooms in real Chromium against real web mode: measure a roofline on this computer.
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from './app-session.ts'
import { requires } from '../../tests/helpers/components.ts'
import type { WebMode } from './web-mode.ts'

describe('Operators and Devices in web mode (Chromium)', requires('chromium', 'cc'), () => {
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
    await expect.poll(() => rows.count(), { timeout: 400_000 }).toBe(3)
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
  }, 500_000)

  it("shows this computer's doctor checks under Devices, each piece not ok with what it disables and its fix", async () => {
    await page.goto(web.url + '#/devices')
    const panel = page.getByTestId('this-computer')
    await panel.getByTestId('doctor-summary').waitFor({ timeout: 60_000 })
    if (!(await panel.getByTestId('doctor-table').isVisible())) await panel.getByRole('button', { name: 'Show details' }).click()
    const rows = panel.locator('[data-testid=doctor-table] tbody tr')
    const report = await app.call<{ checks: { id: string; status: string }[] }>('doctor', {})
    expect(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-check'), tr.getAttribute('data-status')]))).toEqual(
      report.checks.map((c) => [c.id, c.status]),
    )
    await expect.poll(() => panel.locator('tr[data-check=node]').getAttribute('data-status')).toBe('ok')
    for (const row of await panel.locator('tr[data-status=missing], tr[data-status=warning]').all()) {
      expect(await row.textContent()).toMatch(/Disables: .+Fix: .+/)
    }
    expect(pageErrors).toEqual([])
  }, 120_000)
})

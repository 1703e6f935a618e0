// The Operators and Devices rooms in real Chromium against real web mode: measure a roofline on this computer.
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import type { WebMode } from '../helpers/web-mode.ts'

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
    await expect.poll(() => rows.count(), { timeout: 90_000 }).toBe(3)
    expect(await rows.allTextContents()).toEqual([
      expect.stringMatching(/^fp32 GEMM 64/),
      expect.stringMatching(/^int8 GEMM 64/),
      expect.stringMatching(/^bit-serial a1w1 GEMM 64/),
    ])
    await page.locator('[data-testid=roofline-plot] .main-svg').first().waitFor({ timeout: 20_000 })
    await expect.poll(() => page.locator('[data-testid=roofline-plot] .scatterlayer .trace').count()).toBeGreaterThanOrEqual(7)
    // Log axes label decades only: minor ticks labelled "2" and "5" read as values (the top of the axis said "2").
    const ticks = await page.locator('[data-testid=roofline-plot] .xtick text, [data-testid=roofline-plot] .ytick text').allTextContents()
    expect(ticks.length).toBeGreaterThan(3)
    for (const tick of ticks) expect(tick).toMatch(/^(0\.0*1|10*|10*[kMGT]|1[kMGT])$/)
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/operators-view.png', fullPage: true })
    expect(pageErrors).toEqual([])
  }, 120_000)

  it('shows layer timings as soon as "Time layers" finishes (no reload), on the roofline, and for another model of the same shape', async () => {
    const first = await app.trainTinyModel()
    await page.goto(web.url + '#/operators')
    await page.getByTestId('time-layers').waitFor()
    await page.getByLabel('Model').selectOption(first.uuid)
    await page.getByText('Not timed on this board yet.').waitFor({ timeout: 20_000 })
    const reloads: string[] = []
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) reloads.push(frame.url())
    })
    await page.getByTestId('time-layers').click()
    // The same page, without a reload or a model switch: the table comes from the finished run's change event.
    await page.locator('[data-testid=layer-table] tbody tr').first().waitFor({ timeout: 90_000 })
    expect(reloads).toEqual([])
    expect(await page.getByText('Not timed on this board yet.').count()).toBe(0)
    const layerRows = await page.locator('[data-testid=layer-table] tbody tr').count()
    expect(layerRows).toBeGreaterThanOrEqual(2)
    // Each timed layer is a point on the roofline (the roofline was measured by the test before).
    await expect.poll(() => page.locator('[data-testid=roofline-plot] .scatterlayer .trace').count()).toBeGreaterThanOrEqual(8)
    expect(await page.getByTestId('roofline').getAttribute('data-layer-points')).toBe(String(layerRows))

    // A second model of the same architecture and weight shapes: its layers take the same time, so the timing is shown for it too.
    const second = await app.trainTinyModel()
    await expect.poll(async () => page.getByLabel('Model').locator(`option[value="${second.uuid}"]`).count(), { timeout: 20_000 }).toBe(1)
    await page.getByLabel('Model').selectOption(second.uuid)
    await expect.poll(() => page.getByTestId('layer-timing-source').textContent(), { timeout: 20_000 }).toMatch(/same architecture and weight shapes/)
    expect(await page.locator('[data-testid=layer-table] tbody tr').count()).toBe(layerRows)
    // Asked through the API: the answer names the run that timed the first model.
    const timed = await app.call<{ runUuid: string; model: string | null } | null>('getLayerLatency', { board: 'local', model: second.uuid })
    expect(timed?.model).toBe(first.uuid)
    await app.shootWhole('test-results/operators-layers.png')
    expect(pageErrors).toEqual([])
  }, 240_000)

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

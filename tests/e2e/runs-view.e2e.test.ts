// The Runs view and the jobs tray in real Chromium against real web mode: start, watch, cancel, reload, verify.
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import type { WebMode } from '../helpers/web-mode.ts'

describe('Runs view in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let web: WebMode
  let page: Page
  let pageErrors: string[]

  beforeAll(async () => {
    app = await openAppSession()
    ;({ web, page, pageErrors } = app)
  })

  afterAll(() => app?.close())

  it('starts two selftest jobs, cancels one, and finds both runs with the right status and metrics after a reload', async () => {
    await page.goto(web.url)
    await page.getByTestId('runs-empty').waitFor()
    expect(await page.getByTestId('runs-empty').textContent()).toMatch(/No runs yet/)

    // The selftest is a developer tool: not in the always-visible tray, but folded under Developer in the Runs room.
    expect(await page.getByTestId('jobs-tray').getByTestId('start-selftest').count()).toBe(0)
    await page.getByTestId('developer-tools').locator('summary').click()
    await page.getByLabel('Selftest seconds').fill('4')
    await page.getByTestId('start-selftest').click()
    await page.getByTestId('start-selftest').click()
    const jobs = page.getByTestId('job')
    await expect.poll(() => jobs.count(), { timeout: 10_000 }).toBe(2)

    // Progress moves in the tray.
    const firstPercent = jobs.first().getByTestId('job-percent')
    await expect.poll(async () => parseInt((await firstPercent.textContent()) ?? '0'), { timeout: 10_000 }).toBeGreaterThan(0)
    const seen = parseInt((await firstPercent.textContent()) ?? '0')
    await expect.poll(async () => parseInt((await firstPercent.textContent()) ?? '0'), { timeout: 10_000 }).toBeGreaterThan(seen)

    const cancelledRun = await jobs.first().getAttribute('data-run')
    const finishedRun = await jobs.nth(1).getAttribute('data-run')
    await jobs.first().getByTestId('cancel-job').click()
    await page.locator(`[data-testid=job][data-run="${cancelledRun}"][data-state=killed]`).waitFor({ timeout: 10_000 })
    await page.locator(`[data-testid=job][data-run="${finishedRun}"][data-state=finished]`).waitFor({ timeout: 20_000 })

    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/runs-view-jobs.png' })

    await page.reload()
    const rows = page.getByTestId('run-row')
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2)
    expect(await page.locator(`[data-testid=run-row][data-run="${cancelledRun}"]`).getAttribute('data-status')).toBe('KILLED')
    expect(await page.locator(`[data-testid=run-row][data-run="${finishedRun}"]`).getAttribute('data-status')).toBe('FINISHED')

    // The finished run has all 4 s × 5/s loss points; the cancelled one kept what it wrote before the cancel.
    await page.locator(`[data-testid=run-row][data-run="${finishedRun}"]`).click()
    await page.locator(`[data-testid=run-detail][data-run="${finishedRun}"]`).waitFor()
    expect(await page.locator('[data-testid=metrics-table] tr[data-metric=loss]').getAttribute('data-points')).toBe('20')
    await page.locator(`[data-testid=run-row][data-run="${cancelledRun}"]`).click()
    await page.locator(`[data-testid=run-detail][data-run="${cancelledRun}"]`).waitFor()
    const killedPoints = Number(await page.locator('[data-testid=metrics-table] tr[data-metric=loss]').getAttribute('data-points'))
    expect(killedPoints).toBeGreaterThan(0)
    expect(killedPoints).toBeLessThan(20)

    // Tag and note the run from its detail; both survive a reload, and the tag filter finds it.
    await page.getByLabel('New tag').fill('baseline')
    await page.getByLabel('New tag').press('Enter')
    await page.getByLabel('New note').fill('cancelled on purpose')
    await page.getByRole('button', { name: 'Add note' }).click()
    await page.locator('.detail blockquote', { hasText: 'cancelled on purpose' }).waitFor()
    await page.locator('.plot .main-svg').first().waitFor({ timeout: 20_000 })
    await page.screenshot({ path: 'test-results/runs-view-detail.png' })
    await page.reload()
    // A tag in a row filters the table by it (the filter shows as a removable chip in the toolbar).
    await page.locator('[data-testid=run-row] .chip', { hasText: 'baseline' }).click()
    await page.getByTestId('tag-filter').waitFor()
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1)
    expect(await page.getByTestId('runs-count').textContent()).toBe('1 run')
    await rows.first().click()
    await page.locator('.detail .chip', { hasText: 'baseline' }).waitFor()
    await page.locator('.detail blockquote', { hasText: 'cancelled on purpose' }).waitFor()

    expect(pageErrors).toEqual([])
  })
})

// The Quantization room in real Chromium against real web mode: set up a tiny robustness study from the form, follow
// it to its table, summary and curves, export the table as CSV (the CLI's columns), and find it again after a reload.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { studyCsv } from '../../src-main/contract/index.ts'
import type { RunSummary, StudyResult } from '../../src-main/contract/index.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import type { WebMode } from '../helpers/web-mode.ts'

const NUMBER = /^\d+(\.\d+)?(e[+-]\d+)?$/

describe('Quantization view in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let web: WebMode
  let page: Page
  let pageErrors: string[]
  // Kept after the run so the screenshots can be looked at.
  const shots = mkdtempSync(join(tmpdir(), 'benchside-quantization-e2e-'))

  beforeAll(async () => {
    app = await openAppSession()
    ;({ web, page, pageErrors } = app)
  }, 60_000)

  afterAll(() => app?.close())

  /** The groups' midpoint cells, once every row has a number. */
  const rows = () => page.locator('[data-testid=study-table] tbody tr')
  const midpoints = async () => (await page.locator('[data-testid=group-midpoint]').allTextContents()).filter((t) => NUMBER.test(t)).length

  it('runs a tiny study from the form and shows its table, summary and curves; exports CSV; survives a reload', async () => {
    await page.goto(web.url + '#/quantization')
    await page.getByTestId('no-studies').waitFor()
    await expect.poll(() => page.getByLabel('Architecture').inputValue()).toBe('lenet5')
    expect(await page.getByLabel('Dataset').inputValue()).toBe('fashion-mnist-subset')

    await page.getByLabel('Epochs', { exact: true }).fill('1')
    await page.getByLabel('Trainings per cell').fill('1')
    await page.getByLabel('Float baseline').check()
    // A typo is caught in the page, in words that name the field; nothing starts.
    await page.getByLabel('Noisy training sigmas').fill('0.5, abc')
    await page.getByTestId('start-study').click()
    expect(await page.getByTestId('start-error').textContent()).toContain('Noisy training σ: “abc” is not a number')
    await page.getByLabel('Noisy training sigmas').fill('0.5')
    await expect.poll(() => page.getByTestId('start-error').count()).toBe(0)
    for (const bits of [2, 3, 6, 8, 16]) await page.getByLabel(`${bits} bits`, { exact: true }).uncheck()
    await page.getByLabel('4 bits', { exact: true }).check()
    await page.getByLabel('Sigma from').fill('0.01')
    await page.getByLabel('Sigma to').fill('100')
    await page.getByLabel('Sigma points').fill('5')
    await page.getByLabel('Noise draws').fill('1')
    await page.getByLabel('Walking noise').uncheck()
    await page.getByLabel('Sample limit').fill('200')
    await expect.poll(() => page.getByTestId('training-count').textContent()).toBe('3 trainings')
    await page.getByTestId('start-study').click()

    // While it runs: the study is picked, its progress shows inline.
    await page.getByTestId('study-name').waitFor()
    expect(await app.call<RunSummary[]>('listRuns', { kind: 'robustness-study' })).toHaveLength(1)
    await page.getByTestId('study-progress').waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(shots, 'quantization-view-running.png') })

    await expect.poll(midpoints, { timeout: 180_000, interval: 1000 }).toBe(3)
    expect(await rows().count()).toBe(3)
    expect(await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-method')))).toEqual(['float', 'noisy', 'qat'])
    const table = await page.getByTestId('study-table').innerText()
    expect(table).toContain('QAT 4-bit, scale 0.1')
    expect(table).toMatch(/\d+\.\d%/)
    await expect.poll(() => page.getByTestId('study-summary').innerText(), { timeout: 10_000 }).toContain('4 bits')
    // Three curves in the legend (the interval bands stay out of it).
    await expect.poll(() => page.locator('[data-testid=study-curves] .legend .traces').count(), { timeout: 20_000 }).toBe(3)
    await expect.poll(() => page.locator('[data-testid=study-curves] .scatterlayer .trace').count()).toBe(6)
    await expect.poll(() => page.locator('[data-testid=study-variants] tbody tr[data-state=evaluated]').count(), { timeout: 10_000 }).toBe(3)
    await expect.poll(() => page.getByTestId('study-status').textContent(), { timeout: 20_000 }).toBe('FINISHED')

    // The CSV is the CLI's `study show --csv` for the same study.
    const [run] = await app.call<RunSummary[]>('listRuns', { kind: 'robustness-study' })
    const study = await app.call<StudyResult>('getStudy', { run: run!.uuid })
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()])
    const csv = readFileSync((await download.path())!, 'utf8')
    const lines = csv.trim().split('\n')
    expect(lines[0]).toBe(
      'method,label,bits,scale,sigma,trainings,clean_accuracy,global_midpoint,ci_low,ci_high,vs_float_paired,vs_float_ci_low,vs_float_ci_high',
    )
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['float', 'noisy', 'qat'])
    expect(csv).toBe(studyCsv(study))

    // The room scrolls inside <main>: a tall viewport puts all of it in the picture.
    await page.setViewportSize({ width: 1400, height: 2000 })
    await page.screenshot({ path: join(shots, 'quantization-view.png') })

    await page.reload()
    await expect.poll(midpoints, { timeout: 20_000 }).toBe(3)
    expect(await page.getByTestId('study-name').textContent()).toBe(run!.name)
    await page.getByTestId('study-summary').waitFor()
    await page.locator('[data-testid=study-curves] .legend .traces').nth(2).waitFor()
    await page.screenshot({ path: join(shots, 'quantization-view-reloaded.png') })
    console.info(`Quantization view screenshots: ${shots}`)
    expect(pageErrors).toEqual([])
  }, 240_000)
})

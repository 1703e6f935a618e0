// The Quantization room in real Chromium against real web mode: set up a tiny robustness study from the form, follow
// it to its table, summary and curves, export the table as CSV (the CLI's columns), see it beside a second study, and
// find it again after a reload.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { studyCsv } from '../../src-main/contract/index.ts'
import type { RunSummary, StudyResult } from '../../src-main/contract/index.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { waitFor } from '../helpers/temp-home.ts'
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

  it('runs a tiny study from the form and shows its table, summary and curves; exports CSV; compares it with a second; survives a reload', async () => {
    await page.goto(web.url + '#/quantization')
    await page.getByTestId('no-studies').waitFor()
    // A second, smaller study to compare with, started first so that it runs while the form is filled in: float only,
    // of the quicker MLP, on half the test samples (the form's study is the newer, so a reload still selects it).
    const second = await app.call<RunSummary>('startJob', {
      kind: 'robustness-study',
      name: 'mlp-tfc float on 100 samples',
      params: {
        architecture: 'mlp-tfc',
        epochs: 1,
        repeats: 1,
        float: true,
        noisySigmas: [],
        qatBits: [],
        evaluation: { from: 0.01, to: 100, count: 5, repeats: 1, walking: false, limit: 100 },
      },
    })
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
    await waitFor(async () => (await app.call<RunSummary[]>('listRuns', { kind: 'robustness-study' })).length === 2, 10_000, 'the form’s study')
    const [run] = await app.call<RunSummary[]>('listRuns', { kind: 'robustness-study' })
    expect(run!.uuid).not.toBe(second.uuid)
    await expect.poll(() => page.getByTestId('study-name').textContent(), { timeout: 10_000 }).toBe(run!.name)
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
    // Float is named as such beside the bit widths; the σ axis is labelled once per decade (not "2" and "5" between).
    expect(await rows().first().locator('td').nth(1).textContent()).toBe('32 (float)')
    expect(await page.locator('[data-testid=study-curves] .xtick text').allTextContents()).toEqual(['0.01', '0.1', '1', '10', '100'])

    // The CSV is the CLI's `study show --csv` for the same study.
    const study = await app.call<StudyResult>('getStudy', { run: run!.uuid })
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()])
    const csv = readFileSync((await download.path())!, 'utf8')
    const lines = csv.trim().split('\n')
    expect(lines[0]).toBe(
      'method,label,bits,scale,sigma,trainings,clean_accuracy,global_midpoint,ci_low,ci_high,vs_float_paired,vs_float_ci_low,vs_float_ci_high',
    )
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['float', 'noisy', 'qat'])
    expect(csv).toBe(studyCsv(study))

    // Two studies together: each method in one row with both studies' figures and the ratio of their midpoints, what
    // differs in their set-up, and the curves overlaid (the second dashed) or side by side.
    await waitFor(async () => (await app.call<RunSummary>('getRun', { run: second.uuid })).status === 'FINISHED', 120_000, 'the second study')
    const other = await app.call<StudyResult>('getStudy', { run: second.uuid })
    await page.getByLabel('Compare with study').selectOption(second.uuid)
    const compared = page.getByTestId('compare-row')
    await expect
      .poll(() => compared.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key'))), { timeout: 20_000 })
      .toEqual(['float', 'noisy-s0.5', 'qat4-c0.1'])
    const [firstFloat, secondFloat] = [study.groups[0]!.midpoint, other.groups[0]!.midpoint]
    expect(other.groups.map((g) => g.key)).toEqual(['float'])
    expect(await compared.first().getByTestId('compare-ratio').textContent()).toBe(
      firstFloat && secondFloat ? `${Number((secondFloat / firstFloat).toPrecision(2))}×` : '–',
    )
    expect(await compared.nth(1).getByTestId('compare-first').textContent()).toMatch(NUMBER)
    expect(await compared.nth(1).getByTestId('compare-second').textContent()).toBe('–')
    expect(await page.getByTestId('compare-key').innerText()).toBe(`first: ${run!.name} (solid) · second: ${second.name} (dashed)`)
    // The table fits the room at 1400 px (no column pushed out of sight).
    expect(await page.getByTestId('compare-table').evaluate((table) => table.parentElement!.scrollWidth <= table.parentElement!.clientWidth)).toBe(true)
    const differences = await page.getByTestId('compare-differences').innerText()
    expect(differences).toContain('network (lenet5 against mlp-tfc)')
    expect(differences).toContain('test samples (200 against 100)')
    // Overlaid: the first study's three curves with their bands, the second's one curve dashed, each named after its study.
    await expect.poll(() => page.locator('[data-testid=compare-curves] .scatterlayer .trace').count(), { timeout: 20_000 }).toBe(7)
    expect(await page.locator('[data-testid=compare-curves] .legend .traces').allTextContents()).toContain(`float · ${second.name}`)
    await app.shootWhole(join(shots, 'quantization-compare.png'))
    await page.getByLabel('Comparison curves').selectOption('side')
    // Side by side: one plot per study, each with its bands (3 + 3 traces for the first, 1 + 1 for the second).
    expect(await page.locator('[data-testid=compare-curves-of]').count()).toBe(2)
    await expect.poll(() => page.locator('[data-testid=compare-curves-of] .scatterlayer .trace').count(), { timeout: 20_000 }).toBe(8)
    await page.getByLabel('Compare with study').selectOption('')
    await expect.poll(() => page.getByTestId('compare-table').count()).toBe(0)

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

// The clean-vs-noise-trained journey from the UI alone, in real Chromium against real web mode at 1440×900: train a
// clean and a noise-trained model from the training form, sweep both in Robustness, compare them with their clean
// accuracies shown, and export the comparison as a CSV the browser downloads.
import { mkdirSync, readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetail } from '../../src-main/contract/index.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'

describe('Clean against noise-trained, from the UI alone (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let page: Page

  beforeAll(async () => {
    app = await openAppSession({ viewport: { width: 1440, height: 900 } })
    page = app.page
    mkdirSync('test-results', { recursive: true })
  })

  afterAll(() => app?.close())

  /** Starts a training from the form as it is filled now; answers its run once FINISHED. */
  async function trainFromForm(): Promise<RunDetail> {
    const training = page.getByTestId('training')
    const before = await training.getAttribute('data-run')
    await page.getByTestId('start-training').click()
    // The new run replaces the one shown (its detail may take a moment: the attribute is absent meanwhile).
    let uuid = ''
    await expect
      .poll(
        async () => {
          uuid = (await training.getAttribute('data-run')) ?? ''
          return uuid !== '' && uuid !== before
        },
        { timeout: 15_000 },
      )
      .toBe(true)
    await page.locator(`[data-testid=training][data-run="${uuid}"][data-status=FINISHED]`).waitFor({ timeout: 120_000 })
    return app.call<RunDetail>('getRun', { run: uuid })
  }

  it('trains both from the form, sweeps both, compares them with clean accuracy and downloads the CSV', { timeout: 420_000 }, async () => {
    await app.openRoom('models', 'tab-train')
    await page.getByTestId('tab-train').click()
    await page.getByTestId('train-form').waitFor()
    await page.getByLabel('Architecture').selectOption('mlp-tfc')
    await page.getByLabel('Epochs').fill('1')
    await page.getByLabel('Log every steps').fill('5')

    // The clean model: no group ticked, so no noise, QAT or analog params are sent; the run is named after its settings.
    const clean = await trainFromForm()
    expect(clean.name).toBe('mlp-tfc on fashion-mnist-subset · clean · 1 epoch')
    expect(clean.params.noise).toBeUndefined()
    expect(clean.params.qat).toBeUndefined()
    // Per-step curves: steps every 5 batches, besides the epoch's point.
    const steps = clean.metrics.filter((m) => m.key === 'step_loss')
    expect(steps.length).toBeGreaterThanOrEqual(Math.floor(Number(clean.params.steps_per_epoch) / 5))
    await expect.poll(() => page.getByTestId('curves').getAttribute('data-steps'), { timeout: 20_000 }).toBe(String(steps.length))

    // The form checks with the contract's schema: noisy training without σ is refused with a sentence, nothing starts.
    await page.getByLabel('Noisy training').check()
    const runsBefore = (await app.call<unknown[]>('listRuns', { kind: 'train' })).length
    await page.getByTestId('start-training').click()
    await expect.poll(() => page.getByTestId('train-error').textContent()).toMatch(/Noise σ needs a number\./)
    expect((await app.call<unknown[]>('listRuns', { kind: 'train' })).length).toBe(runsBefore)
    await page.getByLabel('Noise sigma').fill('2000')
    await page.getByTestId('start-training').click()
    await expect.poll(() => page.getByTestId('train-error').textContent()).toMatch(/Noise σ must be at most 1000\./)

    // A ramp as long as the training never reaches σ (epoch e trains at σ·e/N): the form says so.
    await page.getByLabel('Noise sigma').fill('0.5')
    await page.getByLabel('Noise schedule').selectOption('ramp')
    await page.getByLabel('Ramp epochs').fill('1')
    await page.getByTestId('ramp-warning').waitFor()
    expect(await page.getByLabel('Run name').getAttribute('placeholder')).toBe('mlp-tfc on fashion-mnist-subset · noisy σ=0.5 ramped over 1 epoch · 1 epoch')

    // The noise-trained model: constant σ = 0.5 at every point but the input.
    await page.getByLabel('Noise schedule').selectOption('constant')
    expect(await page.getByTestId('ramp-warning').count()).toBe(0)
    expect(await page.getByLabel('Run name').getAttribute('placeholder')).toBe('mlp-tfc on fashion-mnist-subset · noisy σ=0.5 · 1 epoch')
    await page.getByTestId('train-noise').scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'test-results/noise-journey-form.png' })
    const noisy = await trainFromForm()
    expect(noisy.name).toBe('mlp-tfc on fashion-mnist-subset · noisy σ=0.5 · 1 epoch')
    expect(JSON.parse(noisy.params.noise!)).toMatchObject({ sigma: 0.5, rampEpochs: 0, theta: 0, points: 'global', model: { kind: 'additive' } })

    // Sweep both in Robustness: a small global grid each.
    await page.goto(`${app.web.url}#/robustness`)
    await page.getByLabel('Model').waitFor({ timeout: 20_000 })
    for (const model of [clean, noisy]) {
      await page.getByLabel('Model').selectOption(model.uuid)
      await page.getByLabel('Scope').selectOption('global')
      await page.getByLabel('Strategy').selectOption('grid')
      await page.getByLabel('Sigma from').fill('0.1')
      await page.getByLabel('Sigma to').fill('100')
      await page.getByLabel('Grid points').fill('4')
      await page.getByLabel('Repeats', { exact: true }).fill('1')
      await page.getByLabel('Sample limit').fill('200')
      await page.getByTestId('start-sweep').click()
      await expect
        .poll(async () => (await app.call<{ uuid: string; status: string }[]>('listRuns', { kind: 'sweep' })).filter((r) => r.status === 'FINISHED').length, {
          timeout: 120_000,
        })
        .toBe(model === clean ? 1 : 2)
    }
    const sweeps = await app.call<{ uuid: string; name: string }[]>('listRuns', { kind: 'sweep' })
    expect(sweeps).toHaveLength(2)

    // Compare: tick both; the comparison shows each sweep's clean accuracy beside its midpoints.
    for (const sweep of sweeps) {
      const box = page.locator(`[data-testid=sweep-runs] tr[data-run="${sweep.uuid}"] input[type=checkbox]`)
      if (!(await box.isChecked())) await box.check()
    }
    const cleanRow = page.getByTestId('clean-row')
    await cleanRow.waitFor({ timeout: 20_000 })
    await expect
      .poll(async () => (await cleanRow.locator('td').allTextContents()).slice(1, 3), { timeout: 20_000 })
      .toEqual([expect.stringMatching(/^\d+(\.\d)?%$/), expect.stringMatching(/^\d+(\.\d)?%$/)])
    await page.screenshot({ path: 'test-results/noise-journey-compare.png', fullPage: true })

    // Export: a browser download whose rows are the sweeps' measured points.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).first().click()])
    expect(download.suggestedFilename()).toMatch(/\.csv$/)
    const csv = readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/)
    expect(csv[0]).toMatch(/sigma/)
    expect(csv[0]).toMatch(/accuracy/)
    // At least one sweep's four grid points of the global scope.
    expect(csv.length).toBeGreaterThanOrEqual(1 + 4)
    for (const line of csv.slice(1)) expect(line.split(',').length).toBe(csv[0]!.split(',').length)
    expect(app.pageErrors).toEqual([])
  })
})

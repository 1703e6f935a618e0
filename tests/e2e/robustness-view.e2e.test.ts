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
  let tiny: string
  let weakModel: string
  type Sweep = { strategy: string; clean: number | null; scopes: { midpoint: { sigma: number | null } | null }[] }
  const midpointsFound = (sweep: Sweep) => sweep.scopes.filter((s) => s.midpoint?.sigma != null).length
  const SI: Record<string, number> = { n: 1e-9, µ: 1e-6, μ: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, B: 1e9, T: 1e12 }
  /** A plot's tick labels on one axis as the values they say, in screen order (left to right, bottom to top). */
  async function axisTicks(testid: string, axis: 'x' | 'y'): Promise<number[]> {
    const ticks = await page
      .locator(`[data-testid=${testid}] .${axis}tick text`)
      .evaluateAll((texts) =>
        texts.map((t) => ({ text: t.textContent ?? '', at: t.getBoundingClientRect() })).map(({ text, at }) => ({ text, x: at.x, y: at.y })),
      )
    ticks.sort((a, b) => (axis === 'x' ? a.x - b.x : b.y - a.y))
    return ticks.map(({ text }) => {
      const plain = text.replace(/\u2212/g, '-')
      const match = /^(-?[\d.]+(?:e[+-]?\d+)?)([a-zA-Zµμ]?)$/.exec(plain)
      expect(match, `tick label “${text}” is a number`).not.toBeNull()
      return Number(match![1]) * (match![2] ? SI[match![2]]! : 1)
    })
  }
  /** Every label a value, rising along the axis: no bare “2” and “5” between decades (the top of an axis read “2”). */
  const rising = (values: number[]) => values.length >= 2 && values.every((v, i) => i === 0 || v > values[i - 1]!)

  beforeAll(async () => {
    app = await openAppSession()
    ;({ web, page, pageErrors } = app)
    const run = await app.call<{ uuid: string }>('startJob', {
      kind: 'train',
      name: 'tiny mlp',
      params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 },
    })
    // A second model of the same network, barely trained: its clean accuracy is far below the first one's.
    const weak = await app.call<{ uuid: string }>('startJob', {
      kind: 'train',
      name: 'weak mlp',
      params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0, learningRate: 5e-5, seed: 2 },
    })
    for (const uuid of [run.uuid, weak.uuid])
      await waitFor(async () => (await app.call<{ status: string }>('getRun', { run: uuid })).status === 'FINISHED', 90_000, 'training')
    tiny = run.uuid
    weakModel = weak.uuid
  }, 180_000)

  afterAll(() => app?.close())

  it('runs a dense walking-noise sweep and shows midpoints, curves and the heatmap', async () => {
    await page.goto(web.url + '#/robustness')
    await page.getByText('No sweeps yet').waitFor()
    // The default range shows whole in its field (it read "1000000(" in a number input too narrow for it).
    const to = page.getByLabel('Sigma to')
    expect(await to.inputValue()).toBe('1e10')
    expect(await to.evaluate((input) => input.scrollWidth <= input.clientWidth)).toBe(true)
    // from > to is refused in the form, in words.
    await page.getByLabel('Sigma from').fill('100')
    await to.fill('1')
    expect(await page.getByTestId('sweep-form-problem').textContent()).toBe('σ from (100) must be below σ to (1).')
    expect(await page.getByTestId('start-sweep').isDisabled()).toBe(true)
    await page.getByLabel('Sigma from').fill('abc')
    expect(await page.getByTestId('sweep-form-problem').textContent()).toMatch(/^σ from must be a number, like 0\.01 or 1e-2/)

    await page.getByLabel('Model').selectOption(tiny)
    await page.getByLabel('Strategy').selectOption('grid')
    await page.getByLabel('Sigma from').fill('0.1')
    await page.getByLabel('Sigma to').fill('100')
    await page.getByLabel('Grid points').fill('7')
    await page.getByLabel('Repeats', { exact: true }).fill('2')
    await page.getByLabel('Sample limit').fill('300')
    await page.getByTestId('start-sweep').click()

    // Eight points of MLP-TFC (flatten is skipped: it repeats its input).
    await expect.poll(() => page.locator('[data-testid=midpoint-bars] .bars .point').count(), { timeout: 90_000 }).toBe(8)
    await page.locator('[data-testid=sweep-heatmap] .main-svg').first().waitFor({ timeout: 20_000 })
    const [first] = await app.call<{ uuid: string }[]>('listRuns', { kind: 'sweep' })
    await waitFor(async () => (await app.call<{ status: string }>('getRun', { run: first!.uuid })).status === 'FINISHED', 60_000, 'the sweep')
    const sweep = await app.call<Sweep>('getSweep', { run: first!.uuid })
    expect(sweep.strategy).toBe('grid')
    // One curve per point, and one trace marking the midpoints found.
    await expect.poll(() => page.locator('[data-testid=sweep-curves] .scatterlayer .trace').count()).toBe(8 + (midpointsFound(sweep) > 0 ? 1 : 0))
    expect(await page.getByTestId('sweep-summary').textContent()).toMatch(/^dense grid · 8 scope\(s\) · chance 10\.0% · clean \d+\.\d%$/)
    // The σ axis spans three decades and is labelled once per decade; the midpoint axis's labels read as values.
    const sigmaTicks = await axisTicks('sweep-curves', 'x')
    expect(sigmaTicks.length).toBeGreaterThanOrEqual(3)
    expect(rising(sigmaTicks)).toBe(true)
    for (const tick of sigmaTicks) expect(Math.log10(tick)).toBeCloseTo(Math.round(Math.log10(tick)), 9)
    expect(rising(await axisTicks('midpoint-bars', 'y'))).toBe(true)
    await page.getByText('Weights of the swept models').waitFor()
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/robustness-view.png', fullPage: true })
    expect(pageErrors).toEqual([])
  }, 150_000)

  it('chooses the σ range from the model, draws adaptive sweeps as curves, and compares sweeps with their clean accuracies', async () => {
    await page.goto(web.url + '#/robustness')
    await page.getByTestId('probe-range').waitFor()
    await page.getByLabel('Model').selectOption(weakModel)
    await page.getByLabel('Strategy').selectOption('adaptive')
    await page.getByTestId('probe-range').click()
    await page.getByTestId('range-note').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('range-note').textContent()).toMatch(/chosen from a quick probe of weak mlp/)
    const from = Number(await page.getByLabel('Sigma from').inputValue())
    const to = Number(await page.getByLabel('Sigma to').inputValue())
    expect(from).toBeGreaterThan(0)
    expect(from).toBeLessThan(to)
    expect(to).toBeLessThanOrEqual(1e4)
    await page.getByLabel('Repeats', { exact: true }).fill('2')
    await page.getByLabel('Sample limit').fill('300')
    await page.getByTestId('start-sweep').click()
    await waitFor(
      async () => {
        const runs = await app.call<{ name: string; status: string }[]>('listRuns', { kind: 'sweep' })
        return runs.some((r) => r.name.startsWith('weak mlp · ') && r.status === 'FINISHED')
      },
      150_000,
      'the adaptive sweep',
    )
    const runs = await app.call<{ uuid: string; name: string }[]>('listRuns', { kind: 'sweep' })
    const adaptive = runs.find((r) => r.name.startsWith('weak mlp · '))!
    const grid = runs.find((r) => r.name.startsWith('tiny mlp · '))!
    const [adaptiveSweep, gridSweep] = [await app.call<Sweep>('getSweep', { run: adaptive.uuid }), await app.call<Sweep>('getSweep', { run: grid.uuid })]
    expect(adaptiveSweep.strategy).toBe('adaptive')
    expect(Math.abs(adaptiveSweep.clean! - gridSweep.clean!)).toBeGreaterThan(0.03)

    // The adaptive sweep alone: curves with its midpoints, and no heatmap of gaps.
    await page.locator(`[data-testid=sweep-runs] tr[data-run="${adaptive.uuid}"] button`).click()
    await page.getByTestId('no-heatmap-note').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('sweep-heatmap').count()).toBe(0)
    await expect
      .poll(() => page.locator('[data-testid=sweep-curves] .scatterlayer .trace').count(), { timeout: 20_000 })
      .toBe(8 + (midpointsFound(adaptiveSweep) > 0 ? 1 : 0))

    // Both ticked: clean accuracies side by side with the midpoints, a warning, both sweeps' curves overlaid.
    await page.getByLabel(`Compare ${grid.name}`).check()
    await page.getByTestId('clean-warning').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('clean-warning').textContent()).toMatch(/clean accuracies of these sweeps differ by \d+\.\d points/)
    const cleanCells = await page.locator('[data-testid=clean-row] td').allTextContents()
    expect(cleanCells.slice(0, 3)).toEqual(['clean accuracy', `${(adaptiveSweep.clean! * 100).toFixed(1)}%`, `${(gridSweep.clean! * 100).toFixed(1)}%`])
    const overlaid = 16 + (midpointsFound(adaptiveSweep) > 0 ? 1 : 0) + (midpointsFound(gridSweep) > 0 ? 1 : 0)
    await expect.poll(() => page.locator('[data-testid=sweep-curves] .scatterlayer .trace').count(), { timeout: 20_000 }).toBe(overlaid)
    expect(rising(await axisTicks('sweep-curves', 'x'))).toBe(true)
    expect(rising(await axisTicks('midpoint-bars', 'y'))).toBe(true)
    // The grid sweep keeps its heatmap; the adaptive one is named as having none.
    await expect.poll(() => page.getByTestId('sweep-heatmap-of').count()).toBe(1)
    expect(await page.getByTestId('sweep-heatmap-of').getAttribute('data-run')).toBe(grid.uuid)
    // Relative to clean: the curves are divided by each sweep's clean accuracy.
    await page.getByTestId('relative-toggle').check()
    await expect.poll(() => page.locator('[data-testid=sweep-curves] .g-ytitle').textContent()).toBe('accuracy ÷ clean accuracy')
    await app.shootWhole('test-results/robustness-compare.png')

    // A second grid sweep over the same σ: the two heatmaps side by side, or their difference.
    await page.getByLabel('Model').selectOption(weakModel)
    await page.getByLabel('Strategy').selectOption('grid')
    await page.getByLabel('Sigma from').fill('0.1')
    await page.getByLabel('Sigma to').fill('100')
    await page.getByLabel('Grid points').fill('7')
    await page.getByTestId('start-sweep').click()
    await waitFor(
      async () => {
        const all = await app.call<{ name: string; status: string }[]>('listRuns', { kind: 'sweep' })
        return all.filter((r) => r.name.startsWith('weak mlp · ')).every((r) => r.status === 'FINISHED') && all.length === 4
      },
      120_000,
      'the second grid sweep',
    )
    const second = (await app.call<{ uuid: string; name: string }[]>('listRuns', { kind: 'sweep' })).find(
      (r) => r.name.startsWith('weak mlp · ') && r.uuid !== adaptive.uuid,
    )!
    await page.getByLabel(`Compare ${grid.name}`).check()
    await expect.poll(() => page.getByTestId('sweep-heatmap-of').count(), { timeout: 20_000 }).toBe(2)
    await page.getByLabel('Heatmaps').selectOption('difference')
    await page.locator('[data-testid=sweep-heatmap-difference] .main-svg').first().waitFor({ timeout: 20_000 })
    expect(second.uuid).not.toBe(grid.uuid)
    await app.shootWhole('test-results/robustness-heatmaps.png')
    expect(pageErrors).toEqual([])
  }, 420_000)
})

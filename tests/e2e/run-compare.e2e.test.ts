// Run comparison in real Chromium against real web mode: tick three runs in the Runs table, compare them, show only
// the params that differ, brush an axis of the parallel coordinates with the mouse, and find the same comparison after
// reloading its address (runs, the switch, the brushed range, in the URL and in plotly's own figure).
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { seedStudy, type SeededRun } from '../helpers/seed-runs.ts'
import type { WebMode } from '../helpers/web-mode.ts'

/**
 * The lr axis's brushed range as plotly holds it in its figure (log₁₀ of lr), or null. A string: this file is
 * type-checked for Node, without the DOM's types.
 */
const PLOTTED_RANGE = `(() => {
  const figure = document.querySelector('[data-testid=parcoords]')
  const dimension = figure?._fullData?.[0]?.dimensions.find((d) => d.label === 'lr (log)')
  return dimension?.constraintrange ?? null
})()`

describe('Run comparison in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let web: WebMode
  let page: Page
  let pageErrors: string[]
  let seeded: SeededRun[] = []

  beforeAll(async () => {
    app = await openAppSession({ seed: (dir) => (seeded = seedStudy(dir)) })
    ;({ web, page, pageErrors } = app)
    await page.setViewportSize({ width: 1440, height: 900 })
  }, 60_000)

  afterAll(() => app?.close())

  const plottedRange = async (p: Page): Promise<number[] | null> => (await p.evaluate(PLOTTED_RANGE)) as number[] | null

  it('compares three runs picked in the table, brushes an axis, and restores all of it from the address', async () => {
    await page.goto(web.url)
    const rows = page.getByTestId('run-row')
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(5)
    expect(await page.getByTestId('runs-count').textContent()).toBe('5 runs')

    // The where filter is checked as it is typed (the mistake shown at its column) and applied on Enter.
    const where = page.getByTestId('where-input')
    await where.fill('params.lr <')
    expect(await page.getByTestId('where-error').getAttribute('data-column')).toBe('12')
    await where.fill('params.lr < 0.005')
    expect(await page.getByTestId('where-error').count()).toBe(0)
    await where.press('Enter')
    await expect.poll(() => page.getByTestId('runs-count').textContent(), { timeout: 10_000 }).toBe('3 runs')
    await where.fill('')
    await where.press('Enter')
    await expect.poll(() => page.getByTestId('runs-count').textContent(), { timeout: 10_000 }).toBe('5 runs')

    // A metric column from the chooser, sorted on the service: the best accuracy first.
    await page.getByTestId('column-chooser').locator('summary').click()
    await page.getByTestId('column-chooser').getByLabel('test_accuracy').check()
    await page.getByTestId('column-chooser').locator('summary').click()
    await page.locator('button.sort[data-sort="metric:test_accuracy"]').click()
    await expect.poll(() => rows.first().locator('td').nth(1).textContent(), { timeout: 10_000 }).toBe('lr 0.01 adam')

    // The jobs tray folds away for width, and stays folded (remembered in this browser).
    await page.getByTestId('jobs-tray-toggle').click()
    expect(await page.getByTestId('jobs-tray').getAttribute('data-collapsed')).toBe('true')

    const picked = seeded.filter((r) => ['lr 0.1 adam', 'lr 0.01 adam', 'lr 0.001 sgd'].includes(r.name))
    expect(picked).toHaveLength(3)
    for (const run of picked) await page.getByLabel(`Pick ${run.name} for comparison`).check()
    expect(await page.getByTestId('compare-button').textContent()).toMatch(/Compare \(3\)/)
    await page.getByTestId('compare-button').click()

    // The comparison: its address names the runs, the params table holds all five params at first.
    await page.getByTestId('compare-view').waitFor({ timeout: 20_000 })
    expect(new URL(page.url()).hash).toContain(`runs=${picked.map((r) => r.uuid).join('%2C')}`)
    const params = page.getByTestId('compare-params')
    await expect.poll(() => params.getAttribute('data-total'), { timeout: 20_000 }).toBe('5')
    expect(await params.locator('tr[data-key=architecture]').count()).toBe(1)
    const chips = page.getByTestId('compare-runs').locator('li')
    expect(await chips.evaluateAll((items) => items.map((li) => li.getAttribute('data-run')))).toEqual(picked.map((r) => r.uuid))

    // Differences only: architecture and batch are the same in all three and go; lr, optimizer and seed stay.
    await params.getByTestId('diff-only').check()
    await expect.poll(() => params.locator('tbody tr').count()).toBe(3)
    expect(await params.locator('tr[data-key=architecture]').count()).toBe(0)
    expect(await params.locator('tr[data-key=batch]').count()).toBe(0)
    expect(await params.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')))).toEqual(['lr', 'optimizer', 'seed'])
    await expect.poll(() => new URL(page.url()).hash).toContain('diff=params')

    // The best run of test_accuracy (0.91) is marked.
    const accuracy = page.getByTestId('compare-metrics').locator('tr[data-key=test_accuracy]')
    expect(await accuracy.locator('td.best').textContent()).toMatch(/^0\.91/)

    // Parallel coordinates: lr spans three decades, so its axis is log (ticks given, so plotly snaps a brush to them).
    // Drag along the axis from a third of the way down to above its top, over lr = 0.1 only.
    await page.locator('[data-testid=parcoords] .main-svg').first().waitFor({ timeout: 30_000 })
    const lrAxis = page.locator('[data-testid=parcoords] .axis-brush').first().locator('rect.background')
    await lrAxis.scrollIntoViewIfNeeded()
    const box = (await lrAxis.boundingBox())!
    expect(box.height).toBeGreaterThan(100)
    const x = box.x + box.width / 2
    const from = box.y + box.height * 0.35
    const to = box.y - 20
    await page.mouse.move(x, from)
    await page.mouse.down()
    for (let k = 1; k <= 10; k++) await page.mouse.move(x, from + ((to - from) * k) / 10)
    await page.mouse.up()

    const brushedCount = page.getByTestId('brushed-count')
    await expect.poll(() => brushedCount.getAttribute('data-inside'), { timeout: 10_000 }).toBe('1')
    expect(await page.getByTestId('brushed-runs').textContent()).toContain('lr 0.1 adam')
    await expect.poll(() => new URL(page.url()).hash).toMatch(/brush=[^&]*p%3Alr/)
    const brushInUrl = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('brush')!
    const [low, high] = brushInUrl.split(',').map(Number)
    // The range is in lr's own values, and holds 0.1 but not 0.01.
    expect(low).toBeGreaterThan(0.01)
    expect(low).toBeLessThan(0.1)
    expect(high).toBeGreaterThanOrEqual(0.1)
    const before = await plottedRange(page)
    expect(before).not.toBeNull()
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/run-compare.png' })

    // Reload the address: the same runs, switch, brush, in the page and in plotly's figure.
    const address = page.url()
    await page.reload()
    expect(page.url()).toBe(address)
    await page.getByTestId('compare-view').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('jobs-tray').getAttribute('data-collapsed')).toBe('true')
    await expect.poll(() => params.getAttribute('data-total'), { timeout: 20_000 }).toBe('5')
    expect(await params.getByTestId('diff-only').isChecked()).toBe(true)
    expect(await params.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')))).toEqual(['lr', 'optimizer', 'seed'])
    expect(await chips.evaluateAll((items) => items.map((li) => li.getAttribute('data-run')))).toEqual(picked.map((r) => r.uuid))
    await page.locator('[data-testid=parcoords] .main-svg').first().waitFor({ timeout: 30_000 })
    await expect.poll(() => brushedCount.getAttribute('data-inside'), { timeout: 10_000 }).toBe('1')
    await expect.poll(() => plottedRange(page), { timeout: 10_000 }).not.toBeNull()
    const after = (await plottedRange(page))!
    expect(after).toHaveLength(2)
    expect(after[0]).toBeCloseTo(before![0]!, 9)
    expect(after[1]).toBeCloseTo(before![1]!, 9)
    expect(after[0]).toBeCloseTo(Math.log10(low!), 9)
    await page.screenshot({ path: 'test-results/run-compare-reloaded.png' })

    expect(pageErrors).toEqual([])
  }, 180_000)
})

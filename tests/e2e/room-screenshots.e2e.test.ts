// Every room at 1440×900 and 1280×800 with some history in it: a screenshot of each (test-results/screenshots/, printed
// as it is written), and no clipped table column or panel whose content spills out of it (issue 13, acceptance).
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunSummary } from '../../src-main/contract/index.ts'
import { rooms } from '../../src-renderer/rooms.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { seedStudy } from '../helpers/seed-runs.ts'
import { waitFor } from '../helpers/temp-home.ts'

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1280, height: 800 },
]
const OUT = resolve('test-results/screenshots')

/** An element that spills: its content is wider than its box and it neither scrolls nor is meant to. */
interface Overflow {
  element: string
  scrollWidth: number
  clientWidth: number
  overflowX: string
}

/**
 * Tables, their cells, and panels (sections, asides, forms, fieldsets, details, anything whose class says panel, card
 * or detail) whose content is wider than they are: spilling out, clipped, or scrolled sideways. A wide table is read
 * in a scroller of its own (a plain wrapper with overflow-x auto, which is not a panel and so not checked); a panel
 * that scrolls sideways hides part of what it shows. A cell that hides its overflow clips its column, unless it ends
 * in an ellipsis and shows the whole text on hover.
 */
function overflowsIn(page: Page): Promise<Overflow[]> {
  return page.evaluate(() => {
    // The page's DOM as far as this check reads it (the tests compile without the DOM library).
    interface Box {
      tagName: string
      parentElement: Box | null
      firstElementChild: Box | null
      classList: Iterable<string>
      title: string
      clientWidth: number
      scrollWidth: number
      getAttribute(name: string): string | null
      getClientRects(): { length: number }
    }
    const dom = globalThis as unknown as {
      document: { querySelectorAll(selector: string): Iterable<Box> }
      getComputedStyle(element: Box): { visibility: string; display: string; overflowX: string; textOverflow: string }
    }
    const describe = (element: Box): string => {
      const parts: string[] = []
      for (let e: Box | null = element; e && e.tagName !== 'MAIN' && parts.length < 4; e = e.parentElement) {
        const testid = e.getAttribute('data-testid')
        const classes = [...e.classList].filter((c) => !c.startsWith('svelte-')).join('.')
        parts.unshift(`${e.tagName.toLowerCase()}${testid ? `[data-testid=${testid}]` : ''}${classes ? `.${classes}` : ''}`)
      }
      return parts.join(' > ')
    }
    const panels = 'table, th, td, section, aside, form, fieldset, details, [class*="panel"], [class*="card"], [class*="detail"]'
    const found: Overflow[] = []
    for (const box of dom.document.querySelectorAll(`main ${panels.split(', ').join(', main ')}, aside.tray`)) {
      if (box.getClientRects().length === 0 || box.clientWidth === 0) continue
      const style = dom.getComputedStyle(box)
      if (style.visibility === 'hidden' || style.display === 'inline') continue
      // Truncated with an ellipsis and the whole text on hover: a deliberate, readable cut.
      if (style.textOverflow === 'ellipsis' && (box.title || box.firstElementChild?.getAttribute('title'))) continue
      if (box.scrollWidth > box.clientWidth + 1) {
        found.push({ element: describe(box), scrollWidth: box.scrollWidth, clientWidth: box.clientWidth, overflowX: style.overflowX })
      }
    }
    return found
  })
}

describe('every room, screenshotted at two window sizes (Chromium)', requires('chromium'), () => {
  let app: AppSession

  beforeAll(async () => {
    app = await openAppSession({ seed: (dir) => void seedStudy(dir) })
    // A real model, a grid sweep and an evaluation, so the model, robustness and run rooms have something to show.
    const model = await app.trainTinyModel()
    const sweep = await app.call<RunSummary>('startJob', {
      kind: 'sweep',
      name: 'screenshot sweep',
      params: { model: model.uuid, strategy: 'grid', grid: { from: 0.01, to: 100, count: 7 }, repeats: 1, limit: 200 },
    })
    const evaluation = await app.call<RunSummary>('startJob', { kind: 'evaluate', params: { model: model.uuid } })
    for (const run of [sweep, evaluation])
      await waitFor(async () => (await app.call<RunSummary>('getRun', { run: run.uuid })).status === 'FINISHED', 120_000, `${run.kind} to finish`)
    mkdirSync(OUT, { recursive: true })
  }, 300_000)

  afterAll(() => app?.close())

  for (const size of SIZES) {
    it(`shows every room at ${size.width}×${size.height} without a clipped column or a spilling panel`, async () => {
      const { page, web } = app
      await page.setViewportSize(size)
      const problems: Record<string, Overflow[]> = {}
      for (const room of rooms) {
        await page.goto(`${web.url}#/${room.id}`)
        await page.locator('main > section').first().waitFor({ timeout: 20_000 })
        // Lists, plots and fonts settle: nothing loading, then a moment for plotly's first draw.
        await page.waitForLoadState('networkidle')
        await page.waitForTimeout(1500)
        // A room is only judged while the link is up (a dropped link hides the room behind a notice).
        expect(await page.getByTestId('connection-lost').count()).toBe(0)
        const file = `${OUT}/${room.id}-${size.width}x${size.height}.png`
        await page.screenshot({ path: file })
        console.log(`screenshot: ${file}`)
        const spilled = await overflowsIn(page)
        if (spilled.length) problems[room.id] = spilled
      }
      // The run detail open beside the table is the Runs room's narrowest layout.
      await page.goto(`${web.url}#/runs`)
      await page.getByTestId('run-row').first().click()
      await page.getByTestId('run-detail').waitFor({ timeout: 20_000 })
      await page.waitForTimeout(1500)
      const file = `${OUT}/runs-detail-${size.width}x${size.height}.png`
      await page.screenshot({ path: file })
      console.log(`screenshot: ${file}`)
      const spilled = await overflowsIn(page)
      if (spilled.length) problems['runs (detail open)'] = spilled
      writeFileSync(`${OUT}/overflows-${size.width}x${size.height}.json`, JSON.stringify(problems, null, 2) + '\n')
      expect(problems).toEqual({})
      expect(app.pageErrors).toEqual([])
    }, 240_000)
  }
})

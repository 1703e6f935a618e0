// The Runs room at 10,000 runs, as a user meets it: web mode over a data folder of 10,000 runs × 100 metric rows, in
// Debian's Chromium. Times, inside the page (so no automation round trip counts): the first paint (navigation start →
// the first rows painted), a sort by a metric column (click → the re-sorted rows painted) and a `where` filter
// (Enter → the filtered rows painted). Median and min of 10 rounds each, after one warm-up. Prints one JSON object;
// progress on stderr. The goal: each under 200 ms.
// Run: npx electron-vite build && node --import tsx bench/runs-room.ts [--dir <seeded data folder>] [--rounds 10]
//      (without --dir, a folder is seeded first with bench/run-table.ts --seed-only and removed afterwards)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { CHROMIUM, launchChromium } from '../tests/helpers/chromium.ts'
import { startWebMode } from '../tests/helpers/web-mode.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const ROUNDS = Number(option('--rounds') ?? 10)
const GOAL_MS = 200
/** The columns the table shows (as the column chooser would have remembered them), and what is sorted and filtered. */
const COLUMNS = [
  { kind: 'param', key: 'noise_sigma' },
  { kind: 'param', key: 'bits' },
  { kind: 'metric', key: 'val_accuracy' },
  { kind: 'metric', key: 'test_accuracy' },
]
const SORT_BY = 'metric:test_accuracy'
const FILTERS = ['params.noise_sigma > 0.5 and metrics.test_accuracy > 0.8', 'params.bits = 4 and status = FINISHED']

const log = (message: string): void => void process.stderr.write(`${message}\n`)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

// Page-side scripts are strings: this file is type-checked for Node, without the DOM's types.

/**
 * Before every load: note when the first animation frame after the first run rows appear runs, in
 * window.benchFirstRows (ms since navigation start). The clock inside the frame callback, not the frame's timestamp:
 * under load a frame's start can precede the moment the rows were made, and the rows are painted after this callback.
 */
const WATCH_FIRST_ROWS = `(() => {
  const observer = new MutationObserver(() => {
    if (!document.querySelector('[data-testid=run-row]')) return
    observer.disconnect()
    requestAnimationFrame(() => (window.benchFirstRows = performance.now()))
  })
  observer.observe(document, { childList: true, subtree: true })
})()`

/**
 * Arms a measurement in window.benchChange, a promise of ms: from the timestamp of the next `event` (a click, or
 * Enter's keydown) to the animation frame after the table's first rows differ from now (other runs or another order),
 * every one of them loaded.
 */
const armChange = (event: 'click' | 'keydown'): string => `(() => {
  const event = ${JSON.stringify(event)}
  const firstRows = () =>
    [...document.querySelectorAll('[data-testid=run-row], [data-testid=run-row-placeholder]')]
      .slice(0, 10)
      .map((row) => row.getAttribute('data-run') ?? 'placeholder')
      .join(',')
  const before = firstRows()
  window.benchChange = new Promise((resolve) => {
    let start = null
    const onEvent = (e) => {
      if (event === 'keydown' && e.key !== 'Enter') return
      start = e.timeStamp
      window.removeEventListener(event, onEvent, true)
    }
    window.addEventListener(event, onEvent, true)
    const observer = new MutationObserver(() => {
      const now = firstRows()
      if (start === null || now === before || now.includes('placeholder') || now === '') return
      observer.disconnect()
      requestAnimationFrame(() => resolve(performance.now() - start))
    })
    observer.observe(document.querySelector('[data-testid=runs-scroller]') ?? document.body, { childList: true, subtree: true, attributes: true })
  })
})()`

const measured = async (page: Page, expression: string): Promise<number> => Number(await page.evaluate(expression))

async function firstPaint(page: Page, url: string): Promise<number> {
  // A new document each time (going to the same address with a hash would stay in the page).
  await page.goto('about:blank')
  await page.goto(url)
  // Polled with evaluate (waitForFunction's string form needs eval, which the page's CSP refuses); the time itself
  // is taken in the page, so the polling adds nothing to it.
  const deadline = Date.now() + 60_000
  for (;;) {
    const value: unknown = await page.evaluate('window.benchFirstRows')
    if (typeof value === 'number') return value
    if (Date.now() > deadline) throw new Error('No run row appeared within 60 s.')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function sortByMetric(page: Page): Promise<number> {
  await page.evaluate(armChange('click'))
  await page.locator(`button.sort[data-sort="${SORT_BY}"]`).click()
  return measured(page, 'window.benchChange')
}

async function filter(page: Page, where: string): Promise<number> {
  const input = page.getByTestId('where-input')
  await input.fill(where)
  await page.evaluate(armChange('keydown'))
  await input.press('Enter')
  return measured(page, 'window.benchChange')
}

let seededHere: string | null = null
let dataDir = option('--dir')
if (!dataDir) {
  seededHere = mkdtempSync(join(tmpdir(), 'benchside-runs-room-'))
  dataDir = join(seededHere, 'data')
  log('seeding 10,000 runs with bench/run-table.ts --seed-only …')
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run-table.ts'), '--seed-only', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] })
}
if (!existsSync(join(dataDir, 'benchside.sqlite')))
  throw new Error(`${dataDir} holds no Benchside history; seed one with bench/run-table.ts --seed-only <dir>.`)

const web = await startWebMode(dataDir)
const browser = await launchChromium()
try {
  const page = await browser.newPage()
  await page.setViewportSize({ width: 1440, height: 900 })
  await page.addInitScript(WATCH_FIRST_ROWS)
  await page.addInitScript(`localStorage.setItem('benchside.runs.columns', ${JSON.stringify(JSON.stringify(COLUMNS))})`)
  const url = `${web.url}#/runs`
  const chromium = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim()

  const loadBefore = loadavg()
  const samples: Record<'firstPaint' | 'sortByMetric' | 'filter', number[]> = { firstPaint: [], sortByMetric: [], filter: [] }
  let total = ''
  // Round 0 warms the HTTP cache, the service's statements and SQLite's pages; it is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    const paint = await firstPaint(page, url)
    total = (await page.getByTestId('runs-count').textContent()) ?? ''
    const sort = await sortByMetric(page)
    const filtered = await filter(page, FILTERS[round % FILTERS.length]!)
    if (round > 0) {
      samples.firstPaint.push(paint)
      samples.sortByMetric.push(sort)
      samples.filter.push(filtered)
    }
    log(
      `round ${round} of ${ROUNDS}${round === 0 ? ' (warm-up)' : ''}: first paint ${paint.toFixed(0)} ms, sort ${sort.toFixed(0)} ms, filter ${filtered.toFixed(0)} ms`,
    )
  }
  const loadAfter = loadavg()

  const results = Object.entries(samples).map(([measure, values]) => ({
    measure,
    medianMs: Math.round(median(values)),
    minMs: Math.round(Math.min(...values)),
    maxMs: Math.round(Math.max(...values)),
  }))
  console.log(
    JSON.stringify(
      {
        node: process.versions.node,
        chromium,
        cores: availableParallelism(),
        loadAverage: { before: loadBefore.map((v) => Number(v.toFixed(2))), after: loadAfter.map((v) => Number(v.toFixed(2))) },
        dataDir: seededHere ? '(seeded for this run)' : dataDir,
        runsShown: total,
        columns: COLUMNS.map((c) => `${c.kind}.${c.key}`),
        sortBy: SORT_BY,
        filters: FILTERS,
        rounds: ROUNDS,
        goalMs: GOAL_MS,
        underGoal: results.every((r) => r.medianMs < GOAL_MS),
        results,
      },
      null,
      2,
    ),
  )
} finally {
  await browser.close()
  await web.stop()
  if (seededHere) rmSync(seededHere, { recursive: true, force: true })
}

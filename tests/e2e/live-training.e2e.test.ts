// Issue 11's acceptance test: a training started from the CLI, in another process on the same data folder, shows up in
// web mode's Runs room and its curve grows without a reload; no getRun answer re-sends a metric the page already has.
// On the way: the run row is reached and opened with the keyboard.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MetricPoint, RunDetail } from '../../src-main/contract/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { requires } from '../helpers/components.ts'
import { tempHome } from '../helpers/temp-home.ts'
import { scriptApi, startWebMode, type WebMode } from '../helpers/web-mode.ts'

const bin = fileURLToPath(new URL('../../bin/benchside.js', import.meta.url))

/** What the page's WebSocket carried for getRun: each call's arguments and each answer's run and metrics. */
interface GetRunTraffic {
  calls: Map<number, { run: string; since: unknown }>
  answers: { id: number; run: string; since: unknown; metrics: MetricPoint[]; bytes: number }[]
}

function parse(payload: string | Buffer): unknown {
  try {
    return JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'))
  } catch {
    return null
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** What the open run's detail showed, each time it changed: its metric count, the points drawn, its status. */
interface Shown {
  metrics: number
  points: number
  status: string
}

// Page-side scripts are strings: this file is type-checked for Node, without the DOM's types.
/** Records every change of what the open run's detail shows, in order, into window.benchsideShown. */
const RECORD_SHOWN = `(() => {
  const shown = []
  const record = () => {
    const detail = document.querySelector('[data-testid=run-detail]')
    if (!detail) return
    const now = {
      metrics: Number(detail.getAttribute('data-metrics')),
      points: detail.querySelectorAll('[data-testid=metrics-plot] .scatterlayer .trace .point').length,
      status: detail.querySelector('[data-testid=detail-status]')?.textContent ?? '',
    }
    const last = shown[shown.length - 1]
    if (!last || last.metrics !== now.metrics || last.points !== now.points || last.status !== now.status) shown.push(now)
  }
  new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true })
  window.benchsideShown = shown
  record()
})()`

describe('A CLI training followed live in web mode (Chromium)', requires('chromium'), () => {
  const home = tempHome()
  let web: WebMode
  let browser: BrowserContext
  let page: Page
  let cli: ChildProcess | null = null
  let cliOutput = ''
  const pageErrors: string[] = []
  const traffic: GetRunTraffic = { calls: new Map(), answers: [] }

  beforeAll(async () => {
    web = await startWebMode(home.dir)
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`${message.text()} (${message.location().url})`)
    })
    page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => {
        const message = parse(payload)
        if (isRecord(message) && message.method === 'getRun' && typeof message.id === 'number' && isRecord(message.args)) {
          traffic.calls.set(message.id, { run: String(message.args.run), since: message.args.since })
        }
      })
      socket.on('framereceived', ({ payload }) => {
        const message = parse(payload)
        if (!isRecord(message) || typeof message.id !== 'number' || !isRecord(message.result)) return
        const asked = traffic.calls.get(message.id)
        const metrics = message.result.metrics
        if (!asked || !Array.isArray(metrics)) return
        traffic.answers.push({ id: message.id, run: asked.run, since: asked.since, metrics: metrics as MetricPoint[], bytes: String(payload).length })
      })
    })
    mkdirSync('test-results', { recursive: true })
  }, 180_000)

  afterAll(async () => {
    if (cli && cli.exitCode === null) cli.kill('SIGTERM')
    await browser?.close()
    await web?.stop()
    home.remove()
  })

  it('shows the run as it starts, grows its curve epoch by epoch, and never receives a metric twice', { timeout: 420_000 }, async () => {
    await page.goto(web.url)
    await page.getByTestId('runs-empty').waitFor({ timeout: 60_000 })
    // A reload would lose this mark: it proves at the end that everything arrived in the same page.
    await page.evaluate(`window.benchsideMark = 'same page'`)

    // First a short selftest from the Developer section, opened so its curve is drawn: plotly (about 10 MB of script)
    // then is loaded, and parsing it (seconds on a slow machine, with the page busy) cannot hide the training's epochs.
    await page.getByTestId('developer-tools').locator('summary').click()
    await page.getByLabel('Selftest seconds').fill('1')
    await page.getByTestId('start-selftest').click()
    const selftest = page.locator('[data-testid=run-row]', { hasText: 'selftest' })
    await selftest.waitFor({ timeout: 60_000 })
    await selftest.click()
    await page.locator('[data-testid=run-detail] [data-testid=metrics-plot] .main-svg').first().waitFor({ timeout: 120_000 })

    cli = spawn('node', [bin, 'train', '--dataset', 'fashion-mnist-subset', '--model', 'mlp-tfc', '--epochs', '3', '--name', 'cli live training'], {
      env: { ...process.env, BENCHSIDE_HOME: home.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    cli.stdout!.on('data', (chunk: Buffer) => (cliOutput += chunk.toString()))
    cli.stderr!.on('data', (chunk: Buffer) => (cliOutput += chunk.toString()))
    const cliExit = new Promise<number | null>((resolve) => cli!.once('exit', (code) => resolve(code)))

    // The run appears in the list by itself: the CLI's process wrote it, this page was told through the change feed.
    const row = page.locator('[data-testid=run-row]', { hasText: 'cli live training' })
    await row.waitFor({ timeout: 120_000 })
    const uuid = (await row.getAttribute('data-run'))!

    // The keyboard path: Tab from the search box reaches the row, Enter opens it.
    await page.getByLabel('Search runs').focus()
    let focused: unknown = null
    for (let i = 0; i < 30 && focused !== uuid; i++) {
      await page.keyboard.press('Tab')
      focused = await page.evaluate(`document.activeElement?.getAttribute('data-run') ?? null`)
    }
    expect(focused).toBe(uuid)
    await page.keyboard.press('Enter')
    const detail = page.locator(`[data-testid=run-detail][data-run="${uuid}"]`)
    await detail.waitFor({ timeout: 30_000 })
    expect(await row.getAttribute('aria-selected')).toBe('true')
    await page.evaluate(RECORD_SHOWN)
    expect(await detail.getByTestId('detail-status').textContent()).toMatch(/^(SCHEDULED|RUNNING)$/)

    // The curve appears while the run is live, then gains points.
    const points = detail.locator('[data-testid=metrics-plot] .scatterlayer .trace .point')
    await expect.poll(() => points.count(), { timeout: 240_000, interval: 500 }).toBeGreaterThan(0)
    await page.screenshot({ path: 'test-results/live-training-running.png' })

    expect(await cliExit).toBe(0)
    await expect.poll(() => detail.getByTestId('detail-status').textContent(), { timeout: 60_000 }).toBe('FINISHED')
    const final = await scriptApi(web.url)<RunDetail>('getRun', { run: uuid })
    await expect.poll(() => detail.getAttribute('data-metrics'), { timeout: 60_000 }).toBe(String(final.metrics.length))
    await expect.poll(() => points.count(), { timeout: 60_000 }).toBe(final.metrics.length)
    expect(await detail.locator('[data-testid=metrics-table] tr[data-metric=train_loss]').getAttribute('data-points')).toBe('3')
    expect(await page.evaluate(`window.benchsideMark`)).toBe('same page')
    await points.first().scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'test-results/live-training-finished.png' })

    // What the page showed, change by change: the first points were drawn while the run was live, more followed, and
    // the count of metrics only ever grew (a whole refetch or a reload would have shown it start over).
    const shown = (await page.evaluate(`window.benchsideShown`)) as Shown[]
    const firstDrawn = shown.find((s) => s.points > 0)
    expect(firstDrawn?.status).toBe('RUNNING')
    expect(shown.some((s) => s.points > firstDrawn!.points)).toBe(true)
    expect(new Set(shown.map((s) => s.metrics)).size).toBeGreaterThanOrEqual(3)
    expect(shown.every((s, i) => i === 0 || s.metrics >= shown[i - 1]!.metrics)).toBe(true)

    // Every getRun answer about this run, taken together: each (key, step) once, and all of them.
    const answers = traffic.answers.filter((a) => a.run === uuid)
    expect(answers.length).toBeGreaterThan(1)
    // One whole fetch when the run was opened; after that only answers to `since`.
    expect(answers.filter((a) => a.since === undefined)).toHaveLength(1)
    const seen = answers.flatMap((a) => a.metrics.map((m) => `${m.key}@${m.step}`))
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen.length).toBe(final.metrics.length)
    expect(new Set(seen)).toEqual(new Set(final.metrics.map((m) => `${m.key}@${m.step}`)))
    const bytes = answers.reduce((sum, a) => sum + a.bytes, 0)
    console.info(
      `live training: ${answers.length} getRun answers, ${seen.length} metric points, ${bytes} bytes; shown: ${shown.map((s) => `${s.metrics}/${s.points}/${s.status}`).join(' → ')}; CLI: ${cliOutput
        .trim()
        .split(/[\r\n]+/)
        .at(-1)}`,
    )
    expect(pageErrors).toEqual([])
  })
})

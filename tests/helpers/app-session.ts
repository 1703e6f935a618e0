// One browser session against real web mode over a fresh data folder: the page, its collected errors, and the API
// for setting things up the way scripts do (POST /api/<method> with the token).
import type { BrowserContext, Page } from 'playwright-core'
import type { RunDetail, RunSummary } from '../../src-main/contract/index.ts'
import { launchChromium } from './chromium.ts'
import { tempHome, waitFor } from './temp-home.ts'
import { scriptApi, startWebMode, type WebMode } from './web-mode.ts'

export interface AppSession {
  web: WebMode
  page: Page
  /** Uncaught page errors and console errors, with the URL that logged them. */
  pageErrors: string[]
  call<T>(method: string, args: unknown): Promise<T>
  /** Trains the tiny model a room's test starts from (mlp-tfc, one epoch) through the API; answers its run once finished. */
  trainTinyModel(): Promise<RunSummary>
  /** Opens a room (`#/<route>`) and waits for `readyTestid` to show. */
  openRoom(route: string, readyTestid: string): Promise<void>
  /** Screenshots the whole room: <main> scrolls inside the window, so the window is made as tall as its content for the shot. */
  shootWhole(path: string): Promise<void>
  close(): Promise<void>
}

/**
 * `seed` writes into the fresh data folder before web mode opens it (a history to show, say); `viewport` replaces the
 * browser's 1400×900 window.
 */
export async function openAppSession(options: { seed?: (dataDir: string) => void; viewport?: { width: number; height: number } } = {}): Promise<AppSession> {
  const home = tempHome()
  options.seed?.(home.dir)
  const web = await startWebMode(home.dir)
  let browser: BrowserContext
  try {
    browser = await launchChromium()
  } catch (error) {
    await web.stop()
    home.remove()
    throw error
  }
  const page = await browser.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${message.text()} (${message.location().url})`)
  })
  const viewport = options.viewport ?? page.viewportSize() ?? { width: 1400, height: 900 }
  if (options.viewport) await page.setViewportSize(options.viewport)
  const call = scriptApi(web.url)

  return {
    web,
    page,
    pageErrors,
    call,
    async trainTinyModel() {
      const train = await call<RunSummary>('startJob', { kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1 } })
      await waitFor(async () => (await call<RunDetail>('getRun', { run: train.uuid })).status === 'FINISHED', 90_000, 'the training to finish')
      return train
    },
    async openRoom(route, readyTestid) {
      await page.goto(`${web.url}#/${route}`)
      await page.getByTestId(readyTestid).waitFor({ timeout: 20_000 })
    },
    async shootWhole(path) {
      const height = await page.locator('main').evaluate((main) => main.scrollHeight)
      await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height + 40) })
      await page.waitForTimeout(300)
      await page.screenshot({ path })
      await page.setViewportSize(viewport)
    },
    async close() {
      await browser.close()
      await web.stop()
      home.remove()
    },
  }
}

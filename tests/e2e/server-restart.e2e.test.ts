// Web mode's server stops and starts again while a tab is open (issue 13, item 6): the tab says what happened and how
// to get back, never shows an empty room meanwhile, reconnects by itself when the server comes back with this data
// folder's token, and says so when it came back with a new one.
import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/chromium.ts'
import { requires } from '../helpers/components.ts'
import { seedStudy, STUDY } from '../helpers/seed-runs.ts'
import { tempHome } from '../helpers/temp-home.ts'
import { startWebMode, type WebMode } from '../helpers/web-mode.ts'

describe('web mode after a server restart (Chromium)', requires('chromium'), () => {
  const home = tempHome()
  let web: WebMode
  let browser: BrowserContext
  let page: Page

  beforeAll(async () => {
    seedStudy(home.dir)
    web = await startWebMode(home.dir)
    browser = await launchChromium()
    page = await browser.newPage()
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await web?.stop()
    home.remove()
  })

  const rows = () => page.getByTestId('run-row')
  const notice = () => page.getByTestId('connection-lost')

  /** Nothing of the room shows while the link is down: no empty state, no rows, no error about the lost link. */
  async function roomHidden(): Promise<void> {
    expect(await page.getByTestId('runs-empty').isVisible()).toBe(false)
    expect(await page.getByText('No runs yet').isVisible()).toBe(false)
    for (const row of await rows().all()) expect(await row.isVisible()).toBe(false)
    expect(await page.locator('main .error').filter({ visible: true }).count()).toBe(0)
  }

  it('explains a stopped server, reconnects by itself when it starts again with the same token, and hides the room meanwhile', async () => {
    await page.goto(web.url)
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(STUDY.length)
    const port = new URL(web.url).port
    // The token is kept per data folder, in a file only its owner may read.
    expect(statSync(join(home.dir, 'web-server.json')).mode & 0o777).toBe(0o600)

    await web.stop()
    await notice().waitFor({ timeout: 15_000 })
    await expect.poll(() => notice().getAttribute('data-link'), { timeout: 15_000 }).toBe('stopped')
    expect(await notice().textContent()).toMatch(/not running[\s\S]*benchside web/)
    await roomHidden()
    mkdirSync('test-results/screenshots', { recursive: true })
    await page.screenshot({ path: 'test-results/screenshots/web-server-stopped.png' })
    // Still hidden a while later: a refetch that failed must not show an empty list either.
    await page.waitForTimeout(1500)
    await roomHidden()

    // The same folder without --port: the remembered port and token, so the open tab comes back on its own.
    const again = await startWebMode(home.dir, { port: Number(port) })
    web = again
    expect(new URL(again.url).port).toBe(port)
    expect(new URL(again.url).searchParams.get('token')).toBe(new URL(page.url()).searchParams.get('token'))
    await notice().waitFor({ state: 'detached', timeout: 20_000 })
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(STUDY.length)
    expect(await rows().first().isVisible()).toBe(true)
  }, 240_000)

  it('says the server restarted with a new token and how to open it, and the new address works', async () => {
    const port = Number(new URL(web.url).port)
    await web.stop()
    await notice().waitFor({ timeout: 15_000 })
    web = await startWebMode(home.dir, { port, args: ['--new-token'] })
    await expect.poll(() => notice().getAttribute('data-link'), { timeout: 20_000 }).toBe('new-token')
    expect(await notice().textContent()).toMatch(/restarted with a new access token[\s\S]*\?token=/)
    await roomHidden()
    await page.screenshot({ path: 'test-results/screenshots/web-server-new-token.png' })

    await page.goto(web.url)
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(STUDY.length)
    expect(await notice().count()).toBe(0)
  }, 240_000)
})

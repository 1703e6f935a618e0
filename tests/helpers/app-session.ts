// One browser session against real web mode over a fresh data folder: the page, its collected errors, and the API
// for setting things up the way scripts do (POST /api/<method> with the token).
import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium } from './chromium.ts'
import { tempHome } from './temp-home.ts'
import { startWebMode, type WebMode } from './web-mode.ts'

export interface AppSession {
  web: WebMode
  page: Page
  /** Uncaught page errors and console errors, with the URL that logged them. */
  pageErrors: string[]
  call<T>(method: string, args: unknown): Promise<T>
  close(): Promise<void>
}

/** `seed` writes into the fresh data folder before web mode opens it (a history to show, say). */
export async function openAppSession(options: { seed?: (dataDir: string) => void } = {}): Promise<AppSession> {
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
  const url = new URL(web.url)
  return {
    web,
    page,
    pageErrors,
    async call<T>(method: string, args: unknown): Promise<T> {
      const response = await fetch(`${url.origin}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${url.searchParams.get('token')}`, 'content-type': 'application/json' },
        body: JSON.stringify(args),
      })
      const reply = (await response.json()) as { ok: boolean; result: T; error?: { message: string } }
      if (!reply.ok) throw new Error(reply.error!.message)
      return reply.result
    },
    async close() {
      await browser.close()
      await web.stop()
      home.remove()
    },
  }
}

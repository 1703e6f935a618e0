// Debian's Chromium driven by playwright-core: never a downloaded browser. Flags keep it off the (closed) network.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { detectComponent } from '../../src-main/services/system-components.ts'

const found = detectComponent('chromium')
/** BENCHSIDE_CHROMIUM, else chromium on PATH; tests that need it use requires('chromium') from components.ts. */
export const CHROMIUM = found.path ?? '/usr/bin/chromium'
export const hasChromium = found.present

export async function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'benchside-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
const home = mkdtempSync(join(tmpdir(), 'bs-panel-'))
const web = spawn('node', ['bin/benchside.js', 'web', '--no-open', '--port', '0'], { env: { ...process.env, BENCHSIDE_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] })
const url = await new Promise<string>((resolve) => { let out = ''; web.stdout!.on('data', (c) => { out += c; const m = /Benchside web: (\S+)/.exec(out); if (m) resolve(m[1]!) }) })
console.log('url', url)
const browser = await chromium.launch({ executablePath: '/tmp/chr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] })
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
const errors: string[] = []
page.on('pageerror', (e) => errors.push(e.message))
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
try {
await page.goto(url + '#/devices', { timeout: 300_000 })
console.log('loaded', new Date().toISOString())
await page.getByTestId('doctor-summary').waitFor({ timeout: 400_000 })
console.log('summary', new Date().toISOString())
const rows = await page.locator('[data-testid=doctor-table] tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-check'), tr.getAttribute('data-status')]))
console.log(JSON.stringify(rows))
console.log(await page.getByTestId('doctor-summary').textContent())
await page.screenshot({ path: '/tmp/panel.png', fullPage: false })
console.log('errors', errors)
} finally {
await browser.close()
web.kill('SIGTERM')
}

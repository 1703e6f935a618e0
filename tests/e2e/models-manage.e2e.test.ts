// Managing models in real Chromium against real web mode at 1440×900: rename, delete with undo, exports as browser
// downloads (LayersModel files and NPZ), a re-import by upload that keeps the dataset, and the model's run in Runs with
// one plot per metric family, links to its room, and a detail panel that leaves the table its columns.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelInfo, RunSummary } from '../../src-main/contract/index.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { tempHome } from '../helpers/temp-home.ts'

// Page-side scripts are strings: this file is type-checked for Node, without the DOM's types.
/**
 * How far the run detail's content reaches past its inside (border and vertical scroll bar excluded), and what does:
 * elements (with their right margin) and text, which can overflow a fixed-width cell without widening any element.
 */
const OVERFLOW_OF_DETAIL = `(() => {
  const el = document.querySelector('[data-testid=run-detail]')
  const right = el.getBoundingClientRect().left + el.clientLeft + el.clientWidth
  const wide = [...el.querySelectorAll('*')].filter(
    (child) => child.getBoundingClientRect().right + (parseFloat(getComputedStyle(child).marginRight) || 0) > right + 1,
  )
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT)
  const range = document.createRange()
  const texts = []
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node)
    if (range.getBoundingClientRect().right > right + 1) texts.push(node.textContent)
  }
  return { by: el.scrollWidth - el.clientWidth, wide: [...wide.slice(0, 5).map((c) => c.tagName + '.' + String(c.className)), ...texts.slice(0, 5)] }
})()`

describe('Managing models in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let page: Page
  let model: RunSummary
  const downloads = tempHome()

  beforeAll(async () => {
    app = await openAppSession({ viewport: { width: 1440, height: 900 } })
    page = app.page
    model = await app.trainTinyModel()
    mkdirSync('test-results', { recursive: true })
  }, 120_000)

  afterAll(async () => {
    await app?.close()
    downloads.remove()
  })

  const models = () => app.call<ModelInfo[]>('listModels', {})

  it('renames, exports by download, re-imports by upload with its dataset, deletes with undo', { timeout: 120_000 }, async () => {
    await app.openRoom('models', 'tab-models')
    await page.getByTestId('tab-models').click()
    const row = page.locator(`[data-testid=model-row][data-model="${model.uuid}"]`)
    await row.click()
    const card = page.locator(`[data-testid=model-detail][data-model="${model.uuid}"]`)
    await card.waitFor({ timeout: 15_000 })
    // The default name says what it is: architecture, dataset, recipe and epochs.
    expect(await card.getByTestId('model-name').textContent()).toBe('mlp-tfc on fashion-mnist-subset · clean · 1 epoch')

    // Rename: the list and the run follow.
    await card.getByTestId('rename-model-open').click()
    await card.getByLabel('New model name').fill('baseline mlp')
    await card.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => card.getByTestId('model-name').textContent(), { timeout: 10_000 }).toBe('baseline mlp')
    expect(await row.getByTestId('model-row-name').textContent()).toBe('baseline mlp')
    expect((await models()).find((m) => m.id === model.uuid)?.name).toBe('baseline mlp')

    // Exports are downloads: model.json and weights.bin, and the weights as NPZ made on request.
    const saved: Record<string, string> = {}
    for (const link of [
      card.getByTestId('export-download').filter({ hasText: 'model.json' }),
      card.getByTestId('export-download').filter({ hasText: 'weights.bin' }),
    ]) {
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
      const file = join(downloads.dir, download.suggestedFilename())
      await download.saveAs(file)
      saved[download.suggestedFilename()] = file
    }
    expect(Object.keys(saved).sort()).toEqual(['model.json', 'weights.bin'])
    const [npz] = await Promise.all([page.waitForEvent('download'), card.getByTestId('export-download-npz').click()])
    expect(npz.suggestedFilename()).toBe('baseline_mlp.npz')
    const npzBytes = readFileSync(await npz.path())
    // A ZIP (NPZ) archive holding one .npy per weight.
    expect(npzBytes.subarray(0, 2).toString('latin1')).toBe('PK')
    expect(npzBytes.toString('latin1')).toMatch(/\.npy/)

    // Re-import the downloaded files by upload, naming no dataset: the model says which one it was trained on.
    await page.getByTestId('open-import-model').click()
    await page.getByLabel('Model files').setInputFiles([saved['model.json']!, saved['weights.bin']!])
    await page.getByTestId('import-model').getByRole('button', { name: 'Import' }).click()
    await page.getByTestId('import-model-done').waitFor({ timeout: 60_000 })
    const imported = (await models()).find((m) => m.kind === 'model-import')!
    expect(imported.dataset).toBe('fashion-mnist-subset')
    // Named after the file, never after the upload folder's random id.
    expect(imported.name).toBe('imported model.json')
    const importedRow = page.locator(`[data-testid=model-row][data-model="${imported.id}"]`)
    await importedRow.waitFor({ timeout: 10_000 })
    expect(await importedRow.textContent()).toMatch(/mlp-tfc.*fashion-mnist-subset/)
    // Made by no backend: the list says so instead of "unknown".
    expect(await importedRow.getByTestId('model-backend').textContent()).toBe('not recorded')
    expect(await importedRow.getByTestId('model-backend').getAttribute('title')).toMatch(/Imported from a file/)

    // Delete asks first; the model leaves the list; Undo brings it back.
    const importedCard = page.locator(`[data-testid=model-detail][data-model="${imported.id}"]`)
    await importedCard.waitFor({ timeout: 10_000 })
    await importedCard.getByTestId('delete-model').click()
    await importedCard.getByTestId('delete-model-confirm').click()
    await expect.poll(() => importedRow.count(), { timeout: 10_000 }).toBe(0)
    expect(await page.getByTestId('model-deleted').textContent()).toMatch(/Deleted .*imported/)
    expect((await models()).some((m) => m.id === imported.id)).toBe(false)
    await page.getByTestId('model-undo-delete').click()
    await importedRow.waitFor({ timeout: 10_000 })
    expect((await models()).some((m) => m.id === imported.id)).toBe(true)
    // No column is clipped, at 1440×900 and at 1280×800 with the Jobs tray open.
    for (const [width, height] of [
      [1440, 900],
      [1280, 800],
    ] as const) {
      await page.setViewportSize({ width, height })
      await page.waitForTimeout(200)
      const scroll = page.locator('.table-scroll')
      expect(await scroll.evaluate((el) => el.scrollWidth - el.clientWidth), `models table at ${width}`).toBeLessThanOrEqual(0)
      await page.screenshot({ path: `test-results/models-manage-${width}.png`, fullPage: true })
    }
    await page.setViewportSize({ width: 1440, height: 900 })
    expect(app.pageErrors).toEqual([])
  })

  it("opens the model's run in Runs: one plot per metric family, links to its room, the table keeps its columns", { timeout: 60_000 }, async () => {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(`${app.web.url}#/runs?run=${model.uuid}`)
    const detail = page.locator(`[data-testid=run-detail][data-run="${model.uuid}"]`)
    await detail.waitFor({ timeout: 20_000 })
    // Losses, fractions (accuracies), seconds and the learning rate each get their plot; per-step metrics theirs.
    const plots = detail.getByTestId('metrics-plots')
    await expect.poll(() => plots.getAttribute('data-families'), { timeout: 20_000 }).toBe('6')
    await expect.poll(() => plots.locator('[data-testid=metrics-plot] .main-svg').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(6)
    const titles = await plots.locator('.gtitle').allTextContents()
    expect(titles).toEqual(
      expect.arrayContaining([
        'losses',
        'accuracy and other fractions',
        'seconds',
        'learning rate',
        'per step: losses',
        'per step: accuracy and other fractions',
      ]),
    )

    // At 1440 px (Jobs tray open) the table still shows name, status and start beside the detail (its compact layout),
    // and nothing in the panel (params, the metrics table) overflows it.
    await page.screenshot({ path: 'test-results/runs-detail-1440.png' })
    const scroller = (await page.getByTestId('runs-scroller').boundingBox())!
    for (const column of ['Name', 'Status', 'Started']) {
      const box = (await page.getByTestId('runs-table').locator('thead th').filter({ hasText: column }).first().boundingBox())!
      expect(box.x + box.width, `${column} column`).toBeLessThanOrEqual(scroller.x + scroller.width + 1)
    }
    const overflow = await page.evaluate(OVERFLOW_OF_DETAIL)
    expect(overflow).toEqual({ by: 0, wide: [] })

    // The run links to the room that shows it.
    await detail.getByTestId('open-in-room').click()
    await page.locator(`[data-testid=model-detail][data-model="${model.uuid}"]`).waitFor({ timeout: 15_000 })
    expect(page.url()).toMatch(/#\/models$/)
    expect(app.pageErrors).toEqual([])
  })
})

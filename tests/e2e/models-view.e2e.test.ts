// The Models & Data room in real Chromium against real web mode: dataset samples, train from the form with live curves,
// the trained model's layer table, an evaluation and its confusion matrix.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import type { WebMode } from '../helpers/web-mode.ts'
import { encodeNpz } from '../../src-main/engine/data/npy.ts'

/** The part of HTMLCanvasElement the test reads (the Node-side type check has no DOM library). */
interface CanvasLike {
  width: number
  height: number
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null
}

describe('Models & Data view in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let web: WebMode
  let page: Page
  let pageErrors: string[]
  /** A small NPZ dataset on the server's disk, for the import form. */
  let npzFile: string

  beforeAll(async () => {
    app = await openAppSession({
      seed: (dataDir) => {
        npzFile = join(dataDir, 'tiny.npz')
        const x = Float32Array.from({ length: 40 * 16 }, (_, i) => Math.sin(i))
        const y = Int32Array.from({ length: 40 }, (_, i) => i % 2)
        writeFileSync(
          npzFile,
          encodeNpz({
            x_train: { shape: [40, 4, 4], data: x },
            y_train: { shape: [40], data: y },
            x_test: { shape: [40, 4, 4], data: x },
            y_test: { shape: [40], data: y },
          }),
        )
      },
    })
    ;({ web, page, pageErrors } = app)
    mkdirSync('test-results', { recursive: true })
  })

  afterAll(() => app?.close())

  it('shows the embedded dataset, trains mlp-tfc from the form with live curves, and evaluates the model', { timeout: 90_000 }, async () => {
    await page.goto(`${web.url}#/models`)

    // The embedded dataset is listed and selected: 3 test samples for each of its 10 classes, drawn, and its class counts.
    await page.locator('[data-testid=dataset-row][data-dataset=fashion-mnist-subset]').waitFor({ timeout: 20_000 })
    await page.locator('[data-testid=dataset-detail][data-dataset=fashion-mnist-subset]').waitFor({ timeout: 20_000 })
    const row = page.locator('[data-testid=dataset-row][data-dataset=fashion-mnist-subset]')
    expect(await row.textContent()).toMatch(/embedded.*28×28×1.*10.*10,000.*–.*2,000/)
    expect(await page.getByTestId('sample-class').count()).toBe(10)
    expect(await page.getByTestId('sample').count()).toBe(30)
    // Every canvas holds a picture: opaque pixels with more than one grey level.
    const greyLevels = await page.getByTestId('sample').evaluateAll((canvases) =>
      (canvases as unknown as CanvasLike[]).map((c) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
        const levels = new Set<number>()
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] === 255) levels.add(data[i]!)
        return levels.size
      }),
    )
    expect(greyLevels.every((n) => n > 10)).toBe(true)
    const counts = page.locator('[data-testid=class-counts] tbody tr')
    expect(await counts.count()).toBe(10)
    expect(await counts.first().textContent()).toMatch(/T-shirt\/top.*1,000.*200/)

    // In web mode the form takes files, not server paths. A file that is not a dataset is uploaded, and the import job
    // says what was wrong; nothing is added.
    const datasetCount = await page.getByTestId('dataset-row').count()
    await page.getByTestId('open-import-dataset').click()
    expect(await page.getByLabel('Dataset path').count()).toBe(0)
    const importButton = page.getByTestId('import-dataset').getByRole('button', { name: 'Import' })
    expect(await importButton.isDisabled()).toBe(true)
    await page.getByLabel('Dataset file').setInputFiles({ name: 'notes.npz', mimeType: 'application/octet-stream', buffer: Buffer.from('not a zip archive') })
    await importButton.click()
    await expect
      .poll(() => page.getByTestId('import-dataset-error').textContent(), { timeout: 30_000 })
      .toMatch(/^The import failed: notes\.npz: this is not a readable \.npz \(zip\) archive/)
    expect(await page.getByTestId('dataset-row').count()).toBe(datasetCount)
    await page.screenshot({ path: 'test-results/models-view-datasets.png', fullPage: true })

    // A good one is uploaded, then imported as a job; when it finishes the form says what was imported and the new
    // dataset is listed.
    await page.getByLabel('Dataset file').setInputFiles(npzFile)
    await page.getByLabel('Dataset name').fill('tiny')
    await importButton.click()
    await expect
      .poll(() => page.getByTestId('import-dataset-done').textContent(), { timeout: 30_000 })
      .toMatch(/^Imported tiny as 'tiny-[0-9a-f]{8}': 40 train \/ 40 test samples of 4×4×1\.$/)
    expect(await page.getByTestId('import-dataset-error').count()).toBe(0)
    await expect.poll(() => page.getByTestId('dataset-row').count()).toBe(datasetCount + 1)
    await page.locator('[data-testid=dataset-detail][data-dataset^=tiny-]').waitFor({ timeout: 20_000 })

    // No model yet: the Models tab says what to do and leads to the training form.
    await page.getByTestId('tab-models').click()
    await page.getByTestId('models-empty').waitFor()
    await page.getByRole('button', { name: 'Set up a training' }).click()

    // The form's defaults come from the contract; the architecture's layer table is previewed.
    await page.getByTestId('train-form').waitFor()
    expect(await page.getByLabel('Dataset', { exact: true }).inputValue()).toBe('fashion-mnist-subset')
    expect(await page.getByLabel('Architecture').inputValue()).toBe('lenet5-bn')
    expect(await page.getByLabel('Epochs').inputValue()).toBe('5')
    expect(await page.getByLabel('Batch size').inputValue()).toBe('64')
    await page.locator('[data-testid=architecture-preview] [data-testid=layer-row][data-point=conv1]').waitFor({ timeout: 15_000 })

    await page.getByLabel('Architecture').selectOption('mlp-tfc')
    const preview = page.locator('[data-testid=architecture-preview]')
    // LeNet-5 has fc1 and fc2 too: wait for the MLP's table to replace it.
    await expect.poll(() => preview.locator('[data-testid=layer-row][data-point=conv1]').count(), { timeout: 15_000 }).toBe(0)
    await preview.locator('[data-testid=layer-row][data-point=fc3]').waitFor({ timeout: 15_000 })
    expect(await preview.getByTestId('total-params').getAttribute('title')).toBe('59,210')
    await page.getByLabel('Epochs').fill('1')
    await page.getByTestId('start-training').click()

    // The job shows in the tray; the run finishes with its curves drawn and its backend named.
    const training = page.getByTestId('training')
    await expect.poll(() => training.getAttribute('data-run'), { timeout: 10_000 }).toMatch(/^[0-9a-f-]{36}$/)
    const trainRun = (await training.getAttribute('data-run'))!
    await page.locator(`[data-testid=job][data-run="${trainRun}"]`).waitFor({ timeout: 10_000 })
    await page.locator(`[data-testid=training][data-status=FINISHED]`).waitFor({ timeout: 60_000 })
    await page.locator('[data-testid=curves][data-epochs="1"]').waitFor({ timeout: 10_000 })
    for (const plot of ['loss-plot', 'accuracy-plot']) {
      // Two traces (train and validation), each with its one epoch drawn as a marker.
      await expect.poll(() => page.locator(`[data-testid=${plot}] .scatterlayer .trace .point`).count(), { timeout: 20_000 }).toBe(2)
    }
    expect(await page.getByTestId('training-backend').textContent()).toMatch(/^(tensorflow|wasm|cpu)$/)
    expect(await page.getByTestId('training-test-accuracy').textContent()).toMatch(/^\d+\.\d%$/)
    await page.screenshot({ path: 'test-results/models-view-training.png', fullPage: true })

    // The model is listed with its test accuracy and backend; its card shows the layer table.
    await page.getByTestId('open-trained-model').click()
    const modelRow = page.locator(`[data-testid=model-row][data-model="${trainRun}"]`)
    await modelRow.waitFor({ timeout: 10_000 })
    expect(await modelRow.textContent()).toMatch(/mlp-tfc on fashion-mnist-subset · clean · 1 epoch.*mlp-tfc.*fashion-mnist-subset/)
    expect(await modelRow.getByTestId('model-accuracy').textContent()).toMatch(/^\d+\.\d%$/)
    expect(await modelRow.getByTestId('model-backend').textContent()).toMatch(/^(tensorflow|wasm|cpu)$/)
    const card = page.locator(`[data-testid=model-detail][data-model="${trainRun}"]`)
    await card.locator('[data-testid=layer-row]').first().waitFor({ timeout: 15_000 })
    expect(await card.locator('[data-testid=layer-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-point')))).toEqual([
      'input',
      'flatten',
      'fc1',
      'fc1.relu',
      'fc2',
      'fc2.relu',
      'fc3',
      'fc3.relu',
      'logits',
    ])
    expect(await card.locator('[data-testid=layer-row][data-point=fc1]').textContent()).toMatch(/fc1.*dense.*64.*50,176|fc1.*dense.*64.*50\.2 k/)
    // Web mode exports by download: the run's model files as links the browser saves, named after the file.
    const downloads = card.getByTestId('export-download')
    await expect.poll(() => downloads.allTextContents(), { timeout: 15_000 }).toEqual(expect.arrayContaining(['Download model.json', 'Download weights.bin']))
    expect(await card.getByLabel('Export path').count()).toBe(0)
    const [download] = await Promise.all([page.waitForEvent('download'), downloads.filter({ hasText: 'model.json' }).click()])
    expect(download.suggestedFilename()).toBe('model.json')
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8')) as { weightsManifest?: unknown }
    expect(exported.weightsManifest).toBeDefined()
    // Until it is evaluated, the confusion matrix is the training run's, on the test split.
    await card.locator(`[data-testid=confusion-source][data-kind=train]`).waitFor({ timeout: 15_000 })

    // Evaluate: a job whose confusion matrix replaces the training one, over all 2,000 test samples.
    await card.getByTestId('evaluate').click()
    await card.locator('[data-testid=confusion-source][data-kind=evaluate]').waitFor({ timeout: 45_000 })
    const confusion = card.getByTestId('confusion')
    expect(await confusion.getAttribute('data-total')).toBe('2000')
    expect(await confusion.getAttribute('data-run')).not.toBe(trainRun)
    await confusion.locator('.heatmaplayer image').waitFor({ state: 'attached', timeout: 20_000 })
    // The cells touch: plotly leaves gaps between heatmap cells transparent in its bitmap, and they showed as dots.
    // The bitmap is decoded in the page. Passed as an expression (an async IIFE, which Playwright awaits): the test's own
    // code has no DOM types.
    const href = await confusion.locator('.heatmaplayer image').evaluate((image) => image.getAttribute('href') ?? image.getAttribute('xlink:href') ?? '')
    const transparent = (await page.evaluate(`(async () => {
      const source = new Image()
      source.src = ${JSON.stringify(href)}
      await source.decode()
      const canvas = document.createElement('canvas')
      canvas.width = source.naturalWidth
      canvas.height = source.naturalHeight
      const context = canvas.getContext('2d')
      context.drawImage(source, 0, 0)
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data
      let count = 0
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] === 0) count++
      return { count, size: canvas.width * canvas.height }
    })()`)) as { count: number; size: number }
    expect(transparent.size).toBeGreaterThan(0)
    expect(transparent.count).toBe(0)
    // Per class, its precision and recall.
    expect(await card.locator('[data-testid=per-class] tbody tr').count()).toBe(10)
    expect(await card.locator('[data-testid=per-class] [data-testid=precision]').first().textContent()).toMatch(/^(\d+(\.\d)?%|–)$/)
    const predictedLabels = await confusion.locator('.xaxislayer-above .xtick text').allTextContents()
    expect(predictedLabels).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'])
    expect(await card.getByTestId('confusion-source').textContent()).toMatch(/Latest evaluation: fashion-mnist-subset, test split · accuracy \d+\.\d%/)
    await card.scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'test-results/models-view-model.png', fullPage: true })

    expect(pageErrors).toEqual([])
  })
})

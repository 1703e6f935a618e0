// The Uncertainty room in real Chromium against real web mode: a tiny model trained through the API; from the room a
// small repulsive ensemble is trained, evaluated against handwritten digits (reliability diagram, entropy and MI
// histograms, ROC, risk–coverage, gallery, the metrics table and its CSV, all checked against the run's result), and
// one round of active learning is run and plotted.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  parseCsv,
  type ActiveLearningResult,
  type RunDetail,
  type RunResult,
  type RunSummary,
  type UncertaintyEvaluateResult,
} from '../../src-main/contract/index.ts'
import { formatNumber } from '../../src-renderer/lib/format.ts'
import { percent } from '../../src-renderer/lib/quantity.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'
import { waitFor } from '../helpers/temp-home.ts'

/** What a plot drew: plotly keeps its traces on the element (`data`). A string: the tests have no DOM types. */
const tracesOf = (testid: string) => `(() => {
  const plot = document.querySelector('[data-testid=${testid}]')
  return plot && plot.data ? plot.data.map((t) => ({ name: t.name ?? null, x: t.x ?? null, y: t.y ?? null, customdata: t.customdata ?? null })) : null
})()`

interface Trace {
  name: string | null
  x: (number | null)[] | null
  y: (number | null)[] | null
  customdata: unknown[] | null
}

describe('Uncertainty room in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let page: Page
  let pageErrors: string[]
  // Kept after the run so the screenshots can be looked at.
  const shots = mkdtempSync(join(tmpdir(), 'benchside-uncertainty-e2e-'))

  beforeAll(async () => {
    app = await openAppSession({ viewport: { width: 1400, height: 1000 } })
    ;({ page, pageErrors } = app)
  }, 60_000)

  afterAll(async () => {
    console.info(`Uncertainty room screenshots: ${shots}`)
    await app?.close()
  })

  const shoot = (name: string): Promise<void> => app.shootWhole(join(shots, name))

  const traces = async (testid: string): Promise<Trace[] | null> => (await page.evaluate(tracesOf(testid))) as Trace[] | null

  /**
   * Presses a form's start button and waits for the job of `kind` it started to finish, seen on the form's job line
   * (which names its run); returns the run. A job that failed says why at once, not at the deadline.
   */
  async function startAndFinish(button: string, testid: string, kind: string, timeout: number): Promise<RunSummary> {
    const before = new Set((await app.call<RunSummary[]>('listRuns', { kind })).map((r) => r.uuid))
    await page.getByTestId(button).click()
    const line = page.getByTestId(testid)
    const started = await waitFor(
      async () => (await app.call<RunSummary[]>('listRuns', { kind })).find((r) => !before.has(r.uuid)),
      20_000,
      `a new ${kind} run`,
    )
    await waitFor(
      async () => {
        const [run, status] = await Promise.all([line.getAttribute('data-run', { timeout: 1000 }), line.getAttribute('data-status', { timeout: 1000 })]).catch(
          () => [],
        )
        if (run !== started.uuid) return false
        if (status === 'FAILED' || status === 'KILLED') throw new Error(`${testid} ended ${status}: ${await line.textContent()}`)
        return status === 'FINISHED'
      },
      timeout,
      `${testid} to finish`,
    )
    return started
  }

  async function resultOf<T>(run: string): Promise<T> {
    return (await app.call<RunResult>('getRunResult', { run })).result as T
  }

  it('trains an ensemble, evaluates it against OOD digits with every plot, and runs a round of active learning', async () => {
    const train = await app.trainTinyModel()
    await app.openRoom('uncertainty', 'no-runs')
    await expect.poll(() => page.getByLabel('Model', { exact: true }).inputValue()).toBe(train.uuid)
    // Each form's fields are looked up inside it: the forms share words (Heads, Learning rate).
    const ensembleForm = page.getByTestId('ensemble-form')
    const evaluateForm = page.getByTestId('evaluate-form')
    const activeForm = page.getByTestId('active-form')
    expect(await ensembleForm.getByLabel('Ensemble OOD dataset').inputValue()).toBe('mnist-digits-subset')

    // A one-head ensemble is refused in the page, in words that name the field; nothing starts.
    await ensembleForm.getByLabel('Heads', { exact: true }).fill('1')
    await page.getByTestId('start-ensemble').click()
    await expect.poll(() => page.getByTestId('ensemble-error').textContent()).toBe('Heads: an ensemble needs at least 2 members.')
    expect(await app.call<RunSummary[]>('listRuns', { kind: 'ensemble-train' })).toHaveLength(0)

    await ensembleForm.getByLabel('Heads', { exact: true }).fill('3')
    await ensembleForm.getByLabel('Ensemble epochs').fill('1')
    await ensembleForm.getByLabel('Train samples').fill('1000')
    await ensembleForm.getByLabel('Learning rate', { exact: true }).fill('0.01')
    await expect.poll(() => page.getByTestId('ensemble-error').count()).toBe(0)
    const ensemble = await startAndFinish('start-ensemble', 'ensemble-job', 'ensemble-train', 240_000)
    const trainedParams = (await app.call<RunDetail>('getRun', { run: ensemble.uuid })).params
    expect(trainedParams).toMatchObject({ model: train.uuid, heads: '3', epochs: '1', trainSamples: '1000', learningRate: '0.01' })
    // The finished ensemble is what the evaluation form offers next.
    await expect.poll(() => evaluateForm.getByLabel('Evaluate ensemble').inputValue(), { timeout: 10_000 }).toBe(ensemble.uuid)

    await evaluateForm.getByLabel('Test samples').fill('300')
    const evaluation = await startAndFinish('start-evaluation', 'evaluate-job', 'uncertainty-evaluate', 180_000)
    const result = await resultOf<UncertaintyEvaluateResult>(evaluation.uuid)
    expect(result.members).toBe(3)
    await expect.poll(() => page.getByTestId('evaluation-status').textContent(), { timeout: 20_000 }).toBe('FINISHED')
    expect(await page.getByTestId('evaluation-name').textContent()).toBe(evaluation.name)

    // The headline numbers are the run's.
    await expect.poll(() => page.getByTestId('summary-accuracy').textContent(), { timeout: 20_000 }).toBe(percent(result.summary.accuracy))
    expect(await page.getByTestId('summary-ece').textContent()).toBe(formatNumber(result.summary.ece))
    expect(await page.getByTestId('summary-aurocMi').textContent()).toBe(formatNumber(result.summary.aurocMi))

    // Reliability diagram: accuracy bars per bin, the diagonal, and the confidence histogram of all 300 samples below.
    await expect.poll(() => page.locator('[data-testid=reliability-diagram] .barlayer .trace').count(), { timeout: 20_000 }).toBe(3)
    expect(await page.locator('[data-testid=reliability-diagram] .scatterlayer .trace').count()).toBe(1)
    const reliability = (await traces('reliability-diagram'))!
    expect(reliability.map((t) => t.name)).toEqual([`accuracy (ECE ${result.summary.ece.toFixed(4)})`, 'gap to calibration', 'perfect calibration', 'samples'])
    expect(reliability[0]!.y).toEqual(result.reliability.map((b) => b.accuracy))
    expect(reliability[3]!.customdata).toEqual(result.reliability.map((b) => b.count))
    expect(result.reliability.reduce((sum, b) => sum + b.count, 0)).toBe(300)
    expect(await page.locator('[data-testid=reliability-diagram] .barlayer .trace').first().locator('.point path').count()).toBeGreaterThan(0)

    // Entropy and mutual-information histograms, in-distribution and OOD overlaid, with the run's counts.
    for (const [testid, histogram] of [
      ['entropy-histogram', result.entropy],
      ['mi-histogram', result.mutualInformation],
    ] as const) {
      await expect.poll(() => page.locator(`[data-testid=${testid}] .barlayer .trace`).count()).toBe(2)
      const drawn = (await traces(testid))!
      expect(drawn.map((t) => t.name)).toEqual(['fashion-mnist-subset (in-distribution)', 'mnist-digits-subset (OOD)'])
      expect(drawn[0]!.customdata!.map((c) => (c as number[])[0])).toEqual(histogram.inDistribution)
      expect(drawn[1]!.customdata!.map((c) => (c as number[])[0])).toEqual(histogram.outOfDistribution)
      expect(drawn[1]!.y!.reduce<number>((sum, share) => sum + (share ?? 0), 0)).toBeCloseTo(1, 9)
    }

    // ROC curves with their AUROC, the risk–coverage curve with its AURC, in the legends.
    const roc = page.locator('[data-testid=roc-curves] .legend')
    await expect.poll(() => roc.textContent()).toContain(`mutual information (AUROC ${result.summary.aurocMi!.toFixed(3)})`)
    expect(await roc.textContent()).toContain(`entropy (AUROC ${result.summary.aurocEntropy!.toFixed(3)})`)
    expect(await page.locator('[data-testid=risk-coverage] .legend').textContent()).toContain(`AURC ${result.summary.aurc.toFixed(4)}`)

    // The galleries: one canvas per sample, the most sure OOD digits too.
    expect(await page.locator('[data-testid=gallery-most-certain] canvas').count()).toBe(result.gallery.mostCertain.length)
    expect(await page.locator('[data-testid=gallery-least-certain] canvas').count()).toBe(result.gallery.leastCertain.length)
    expect(await page.locator('[data-testid=gallery-confident-ood] canvas').count()).toBe(result.gallery.confidentOod.length)
    expect(result.gallery.confidentOod.length).toBeGreaterThan(0)

    // The metrics table: the ensemble and its evaluation, numbers as the runs logged them; the CSV has the raw values.
    const evaluationRow = page.locator(`[data-testid=metrics-table] tr[data-run="${evaluation.uuid}"]`)
    await expect.poll(() => evaluationRow.locator('td[data-metric=accuracy]').textContent(), { timeout: 10_000 }).toBe(percent(result.summary.accuracy))
    expect(await evaluationRow.locator('td[data-metric=nll]').textContent()).toBe(formatNumber(result.summary.nll))
    expect(await evaluationRow.locator('td[data-metric=fpr95Mi]').textContent()).toBe(formatNumber(result.summary.fpr95Mi))
    expect(await page.locator(`[data-testid=metrics-table] tr[data-run="${ensemble.uuid}"]`).count()).toBe(1)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-metrics-csv').click()])
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'))
    expect(csv[0]!.slice(0, 6)).toEqual(['run', 'name', 'kind', 'method', 'accuracy', 'nll'])
    const csvRow = csv.find((row) => row[0] === evaluation.uuid)!
    expect(Number(csvRow[csv[0]!.indexOf('ece')])).toBe(result.summary.ece)
    expect(Number(csvRow[csv[0]!.indexOf('aurocEntropy')])).toBe(result.summary.aurocEntropy)
    await shoot('uncertainty-evaluation.png')

    // One round of active learning: two points on its curve (the initial labels, then 20 more).
    await activeForm.getByLabel('Rounds', { exact: true }).fill('1')
    await activeForm.getByLabel('Initial labelled').fill('50')
    await activeForm.getByLabel('Per round', { exact: true }).fill('20')
    await activeForm.getByLabel('Pool', { exact: true }).fill('300')
    await activeForm.getByLabel('Active learning heads').fill('2')
    await activeForm.getByLabel('Steps per round').fill('30')
    const active = await startAndFinish('start-active', 'active-job', 'active-learning', 240_000)
    const learned = await resultOf<ActiveLearningResult>(active.uuid)
    expect(learned.rounds.map((r) => r.labelled)).toEqual([50, 70])
    await expect.poll(async () => (await traces('active-learning-curves'))?.[0]?.x ?? null, { timeout: 20_000 }).toEqual([50, 70])
    const curves = (await traces('active-learning-curves'))!
    expect(curves[0]!.name).toBe(`bald · ${active.uuid.slice(0, 8)}`)
    expect(curves[0]!.y).toEqual(learned.rounds.map((r) => r.testAccuracy))
    expect(curves[1]!.y).toEqual(learned.rounds.map((r) => r.ece))
    expect(await page.locator('[data-testid=active-learning-curves] .scatterlayer .trace').count()).toBe(2)
    await shoot('uncertainty-active-learning.png')

    // The model alone (an ensemble of one) under global noise: accuracy, ECE and epistemic against σ, σ = 0 apart.
    await evaluateForm.getByLabel('Evaluate ensemble').selectOption(train.uuid)
    await evaluateForm.getByLabel('Evaluation OOD dataset').selectOption('')
    await evaluateForm.getByLabel('Test samples').fill('200')
    await evaluateForm.getByLabel('Under noise').check()
    expect(await evaluateForm.getByLabel('Noise point').locator('option').count()).toBeGreaterThan(1)
    await evaluateForm.getByLabel('Noise sigmas').fill('0.5, 2')
    const noisy = await startAndFinish('start-evaluation', 'evaluate-job', 'uncertainty-evaluate', 180_000)
    const underNoise = await resultOf<UncertaintyEvaluateResult>(noisy.uuid)
    expect(underNoise).toMatchObject({ members: 1, oodDataset: null })
    expect(underNoise.noise!.curve.map((p) => p.sigma)).toEqual([0, 0.5, 2])
    await expect.poll(() => page.getByTestId('evaluation-name').textContent(), { timeout: 20_000 }).toBe(noisy.name)
    await expect.poll(async () => (await traces('noise-curve'))?.length ?? 0, { timeout: 20_000 }).toBe(6)
    // The plot follows the run through the change feed: while it was still running it drew the σ done so far.
    await expect.poll(async () => (await traces('noise-curve'))![0]!.x, { timeout: 20_000 }).toEqual([0.5, 2])
    const noiseTraces = (await traces('noise-curve'))!
    expect(noiseTraces[0]!.y).toEqual(underNoise.noise!.curve.slice(1).map((p) => p.accuracy))
    // σ = 0 is its own marker, a decade left of the smallest σ, labelled 0 on the axis.
    expect(noiseTraces[1]!.x).toEqual([0.05])
    expect(noiseTraces[1]!.y).toEqual([underNoise.noise!.curve[0]!.accuracy])
    expect(await page.locator('[data-testid=noise-curve] .xtick text').first().textContent()).toBe('0')
    expect(await page.getByTestId('roc-curves').count()).toBe(0)
    await shoot('uncertainty-noise.png')
    expect(pageErrors).toEqual([])
  }, 600_000)
})

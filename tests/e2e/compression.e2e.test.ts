// The Compression room in real Chromium against real web mode: a tiny model trained through the API, a short search
// started from the form and followed live (the scatter grows episode by episode), the best policy opened in the
// editor, one layer changed (the predicted latency follows), the policy compared, exported and re-imported, and
// applied to make a new model.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Policy, type ModelInfo, type RunDetail, type RunSummary } from '../../src-main/contract/index.ts'
import { openAppSession, type AppSession } from '../helpers/app-session.ts'
import { requires } from '../helpers/components.ts'

const EPISODES = 4

/** Points plotted for the search's episodes: its first two traces (warm-up, agent). A string: no DOM types here. */
const EPISODE_POINTS = `(() => {
  const traces = [...document.querySelectorAll('[data-testid=pareto-scatter] .scatterlayer .trace')]
  return traces.slice(0, 2).reduce((n, trace) => n + trace.querySelectorAll('.point').length, 0)
})()`

describe('Compression room in web mode (Chromium)', requires('chromium'), () => {
  let app: AppSession
  let page: Page
  let pageErrors: string[]
  // Kept after the run so the screenshots can be looked at.
  const shots = mkdtempSync(join(tmpdir(), 'benchside-compression-e2e-'))

  beforeAll(async () => {
    app = await openAppSession({ viewport: { width: 1400, height: 1000 } })
    ;({ page, pageErrors } = app)
  }, 60_000)

  afterAll(async () => {
    console.info(`Compression room screenshots: ${shots}`)
    await app?.close()
  })

  const shoot = (name: string): Promise<void> => app.shootWhole(join(shots, name))

  const plottedEpisodes = async (p: Page): Promise<number> => (await p.evaluate(EPISODE_POINTS)) as number

  it('searches from the form, grows the scatter live, edits the best policy and applies it as a new model', async () => {
    const train = await app.trainTinyModel()
    await app.openRoom('compression', 'no-searches')
    await expect.poll(() => page.getByLabel('Model', { exact: true }).inputValue()).toBe(train.uuid)
    expect(await page.getByLabel('Board', { exact: true }).inputValue()).toBe('local')
    expect(await page.getByLabel('Target ratio').inputValue()).toBe('0.25')
    // From scratch the editor holds the reference policy of the model's compressible layers.
    const layerRows = page.locator('[data-testid=policy-layers] tbody tr')
    await expect.poll(() => layerRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-layer'))), { timeout: 20_000 }).toEqual(['fc1', 'fc2', 'fc3'])

    await page.getByLabel('Episodes', { exact: true }).fill(String(EPISODES))
    await page.getByLabel('Retrain epochs').fill('1')
    await page.getByLabel('Retrain samples').fill('200')
    await page.getByLabel('Validation samples').fill('200')
    await page.getByLabel('Final epochs').fill('0')
    expect(await page.getByLabel('Latency source').inputValue()).toBe('measured')
    // A warm-up longer than the search is caught in the page, named as the form names it; nothing starts.
    await page.getByLabel('Warm-up episodes').fill('5')
    await page.getByTestId('start-search').click()
    expect(await page.getByTestId('start-error').textContent()).toMatch(/^Warm-up episodes: /)
    await page.getByLabel('Warm-up episodes').fill('2')
    await expect.poll(() => page.getByTestId('start-error').count()).toBe(0)
    // 4 × (1 s + 1 × 200 × 0.5 ms + 200 × 0.05 ms + 0.3 s) = 5.64 s.
    expect(await page.getByTestId('search-estimate').textContent()).toContain('≈ 5.6 s')
    await page.getByTestId('start-search').click()

    await page.getByTestId('search-name').waitFor({ timeout: 20_000 })
    await page.getByTestId('search-progress').waitFor({ timeout: 30_000 })

    // The scatter grows while the search runs: every count seen, until the last episode is plotted.
    const seen: number[] = []
    /** When each count was first seen, against when each episode's metrics were logged (for the log line). */
    const seenAt: number[] = []
    const searches = await app.call<RunSummary[]>('listRuns', { kind: 'compression-search' })
    expect(searches).toHaveLength(1)
    const search = searches[0]!
    const deadline = Date.now() + 240_000
    for (let check = 0; ; check++) {
      const points = await plottedEpisodes(page)
      if (seen.at(-1) !== points) {
        seen.push(points)
        seenAt.push(Date.now())
      }
      if (points === EPISODES) break
      // A search that failed will plot nothing more: say why at once rather than at the deadline.
      const run = check % 20 === 19 || Date.now() > deadline ? await app.call<RunDetail>('getRun', { run: search.uuid }) : null
      if (run && (Date.now() > deadline || run.status === 'FAILED' || run.status === 'KILLED')) {
        await shoot('compression-stuck.png')
        throw new Error(`${EPISODES} episodes were not plotted: seen ${seen.join(' → ')}; the search is ${run.status}${run.error ? `: ${run.error}` : ''}`)
      }
      await page.waitForTimeout(100)
    }
    await shoot('compression-running.png')
    expect(seen.filter((n) => n > 0).length).toBeGreaterThan(1)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen)
    await expect.poll(() => page.getByTestId('search-status').textContent(), { timeout: 120_000 }).toBe('FINISHED')
    await page.getByTestId('search-summary').waitFor()
    // The final pick exists only when an episode landed within ±0.05 of the target, which 4 episodes need not do.
    const pick = (await app.call<{ result: { pick: unknown } | null }>('getRunResult', { run: search.uuid })).result?.pick
    await expect.poll(() => page.getByTestId('final-pick').count(), { timeout: 10_000 }).toBe(pick ? 1 : 0)
    if (pick) expect(await page.getByTestId('final-pick').textContent()).toMatch(/\d+\.\d% test accuracy/)
    expect(await page.getByTestId('cost-model-error').textContent()).toMatch(/median \d+\.\d%, worst \d+\.\d% over \d+ measured polic/)
    expect(await page.locator('[data-testid=episode-table] tbody tr').count()).toBe(EPISODES)
    expect(await plottedEpisodes(page)).toBe(EPISODES)

    // A point of the scatter opens its episode's policy (plotly takes the click on its drag layer, above the point).
    const point = (await page.locator('[data-testid=pareto-scatter] .scatterlayer .trace .point').first().boundingBox())!
    await page.mouse.click(point.x + point.width / 2, point.y + point.height / 2)
    await expect.poll(() => page.getByTestId('policy-source').textContent()).toMatch(/^from episode \d+ of /)
    await page.getByTestId('policy-from-scratch').click()
    expect(await page.getByTestId('policy-source').textContent()).toBe('from the uncompressed model (from scratch)')

    // The best policy in the editor, with a live prediction (the search profiled the board).
    await page.getByTestId('open-best').click()
    await expect.poll(() => page.getByTestId('policy-source').textContent()).toMatch(/^from episode \d+ of /)
    const predicted = page.getByTestId('predicted-latency')
    const missing = page.getByTestId('prediction-missing')
    const cost = page.getByTestId('policy-cost')
    // The prediction shown is for the policy in the editor (the last one stays, dimmed, while the next is made).
    await expect.poll(() => cost.getAttribute('data-current'), { timeout: 20_000 }).toBe('true')
    await predicted.or(missing).waitFor()
    // Without the board's profile of this model in the latency table, the editor says so and offers to profile it.
    if (await missing.isVisible()) {
      expect(await missing.textContent()).toContain("has not been profiled on 'local'")
      await page.getByTestId('editor-profile-board').click()
      await predicted.waitFor({ timeout: 120_000 })
    }
    const before = (await predicted.textContent())!
    expect(before).toMatch(/\d (µs|ms|s)$/)
    await page.getByTestId('pin-a').click()

    // One layer's keep, changed far enough that the network's cost must move.
    const keep = page.getByLabel('Keep of fc1', { exact: true })
    const keepBefore = Number(await keep.inputValue())
    await keep.fill(keepBefore > 0.55 ? '0.1' : '1')
    await keep.press('Tab')
    await expect.poll(() => page.getByTestId('policy-source').textContent()).toContain('edited')
    await expect.poll(() => cost.getAttribute('data-current'), { timeout: 10_000 }).toBe('true')
    expect(await predicted.textContent()).not.toBe(before)
    await page.getByTestId('pin-b').click()
    await expect.poll(() => page.locator('[data-testid=policy-diff] tr[data-layer=fc1] td.changed').count()).toBe(2)

    // The policy as a file: the contract's format, and read back into the editor; a bad file is refused in words.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-policy').click()])
    const exported = readFileSync((await download.path())!, 'utf8')
    const policy = Policy.parse(JSON.parse(exported))
    expect(policy.format).toBe('benchside-compression-policy')
    expect(policy.layers.map((l) => l.layer)).toEqual(['fc1', 'fc2', 'fc3'])
    const importer = page.getByTestId('import-policy')
    await importer.setInputFiles({
      name: 'bad.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"format":"benchside-compression-policy","layers":[]}'),
    })
    expect(await page.getByTestId('policy-file-error').textContent()).toMatch(/^This file is not a Benchside compression policy/)
    await importer.setInputFiles({ name: 'good.json', mimeType: 'application/json', buffer: Buffer.from(exported) })
    await expect.poll(() => page.getByTestId('policy-source').textContent()).toBe('from the file good.json')
    expect(await page.getByTestId('policy-file-error').count()).toBe(0)

    // Apply: a compression-apply job whose run is a new model.
    await page.getByLabel('Apply epochs').fill('0')
    await page.getByTestId('apply-button').click()
    await expect.poll(() => page.getByTestId('apply-status').getAttribute('data-status'), { timeout: 120_000 }).toBe('FINISHED')
    await page.getByTestId('apply-result').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('apply-result').textContent()).toMatch(/test accuracy \d+\.\d%/)
    const models = await app.call<ModelInfo[]>('listModels', {})
    expect(models).toHaveLength(2)
    await expect.poll(() => page.getByLabel('Model', { exact: true }).locator('option').count(), { timeout: 10_000 }).toBe(2)
    await page.getByTestId('applied-model').waitFor()
    await shoot('compression-finished.png')
    const logged = (await app.call<RunDetail>('getRun', { run: search.uuid })).metrics.filter((m) => m.key === 'accuracy').map((m) => m.time)
    const since = (t: number) => ((t - logged[0]!) / 1000).toFixed(1)
    console.info(
      `compression e2e: episodes logged at ${logged.map(since).join(', ')} s; plotted ${seen.map((n, i) => `${n} at ${since(seenAt[i]!)} s`).join(' → ')}`,
    )
    expect(pageErrors).toEqual([])
  }, 480_000)
})

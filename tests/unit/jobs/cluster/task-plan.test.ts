// How jobs split into cluster tasks and join again: round-robin shares, and a sweep's scopes back in model order.
import { describe, expect, it } from 'vitest'
import { JobSpec } from '../../../../src-main/contract/index.ts'
import { inShare, planTasks } from '../../../../src-main/jobs/cluster/task-plan.ts'

const scope = (name: string, layerEvaluations: number) => ({
  scope: name,
  sigma: 1,
  status: 'found',
  passes: 2,
  stopped: 'tolerance',
  cost: { layerEvaluations, macs: 10, passes: 2, cells: 5 },
})

describe('task plan', () => {
  it('gives every item to exactly one task', () => {
    const items = [...'abcdefg']
    const shares = [0, 1, 2].map((index) => inShare(items, { index, count: 3 }))
    expect(shares).toEqual([
      ['a', 'd', 'g'],
      ['b', 'e'],
      ['c', 'f'],
    ])
    expect(inShare(items, null)).toEqual(items)
  })

  it('joins sweep shares in the order a local sweep reports, with the total cost logged once', async () => {
    const spec = JobSpec.parse({ kind: 'sweep', params: { model: 'm', scope: { kind: 'global' } } })
    const plan = await planTasks(spec, {}, 3)
    const part = (names: string[]) => ({
      strategy: 'adaptive',
      classes: 10,
      workers: 1,
      scopes: names.map((n) => scope(n, 2)),
      cost: { layerEvaluations: 2 * names.length, macs: 10 * names.length, passes: 2 * names.length, cells: 5 * names.length },
    })
    const { result, metrics } = plan.merge([part(['a', 'd', 'g']), part(['b', 'e']), part(['c', 'f'])])
    expect((result as { scopes: { scope: string }[] }).scopes.map((s) => s.scope)).toEqual([...'abcdefg'])
    expect((result as { cost: { cells: number } }).cost.cells).toBe(35)
    expect(metrics).toEqual([{ key: 'layer_evaluations', value: 14, step: 0 }])
  })

  it('counts a study’s trainings as its tasks and sums what each evaluated', async () => {
    const spec = JobSpec.parse({ kind: 'robustness-study', params: { repeats: 1, noisySigmas: [0.5], qatBits: [4], qatScales: [0.2] } })
    const plan = await planTasks(spec, {})
    expect(plan.count).toBe(3)
    expect(
      plan.merge([
        { variants: 3, evaluated: 1 },
        { variants: 3, evaluated: 1 },
        { variants: 3, evaluated: 1 },
      ]).result,
    ).toEqual({ variants: 3, evaluated: 3 })
  })

  it('refuses kinds that need this machine’s boards', async () => {
    const spec = JobSpec.parse({ kind: 'roofline', params: {} })
    await expect(planTasks(spec, {})).rejects.toThrow(/cannot run on a cluster/)
  })
})

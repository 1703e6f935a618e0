// Default run names: the model's name and the settings that differ, so two sweeps of one model never share a name.
import { describe, expect, it } from 'vitest'
import { defaultRunName, JobSpec } from '../../../src-main/contract/index.ts'

const names: Record<string, string> = { 'aaaaaaaa-1111': 'clean mlp' }
const modelName = (id: string) => names[id] ?? null
const name = (spec: unknown) => defaultRunName(JobSpec.parse(spec), modelName)

describe('defaultRunName', () => {
  it('names a training after architecture, dataset, recipe and epochs', () => {
    expect(name({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1 } })).toBe('mlp-tfc on fashion-mnist-subset · clean · 1 epoch')
    expect(name({ kind: 'train', params: { noise: { sigma: 0.5, rampEpochs: 2 } } })).toBe(
      'lenet5-bn on fashion-mnist-subset · noisy σ=0.5 ramped over 2 epochs · 5 epochs',
    )
    expect(name({ kind: 'train', params: { noise: { sigma: 0.1, theta: 0.05, points: ['fc1'] }, qat: { weightBits: 4, activationBits: 0 } } })).toBe(
      'lenet5-bn on fashion-mnist-subset · noisy σ=0.1 + 0.05·|N| per sample at fc1, QAT w4 (float activations) · 5 epochs',
    )
  })

  it('tells adaptive and grid sweeps of one model apart, with scope, noise and samples', () => {
    const adaptive = name({ kind: 'sweep', params: { model: 'aaaaaaaa-1111', limit: 300 } })
    const grid = name({ kind: 'sweep', params: { model: 'aaaaaaaa-1111', strategy: 'grid', grid: { from: 0.1, to: 100, count: 7 } } })
    expect(adaptive).toBe('clean mlp · adaptive sweep · walking · additive · 300 samples')
    expect(grid).toBe('clean mlp · grid 0.1…100 ×7 sweep · walking · additive · all samples')
    expect(adaptive).not.toBe(grid)
    // An unknown model id: its first 8 characters.
    expect(name({ kind: 'sweep', params: { model: 'bbbbbbbb-2222', scope: { kind: 'global' }, repeats: 2 } })).toBe(
      'bbbbbbbb · adaptive sweep · global · additive · all samples · 2 repeats',
    )
  })

  it('names an evaluation after its model, never after the time', () => {
    expect(name({ kind: 'evaluate', params: { model: 'aaaaaaaa-1111' } })).toBe('evaluate clean mlp · test split')
  })
})

// The training form's view of TrainParams: group defaults and bounds from the schema, and its checks as sentences.
import { describe, expect, it } from 'vitest'
import { numberBounds, TrainParams, trainFormIssues, trainGroupDefaults } from '../../../src-main/contract/index.ts'

describe('train form', () => {
  it("takes every group's defaults from the schema (σ has none)", () => {
    const d = trainGroupDefaults()
    expect(d.qat).toEqual({ weightBits: 8, granularity: 'channel', symmetric: true, activationBits: 8, scaling: 'constant', scale: 0.1 })
    expect(d.noise).toMatchObject({ points: 'global', theta: 0, rampEpochs: 0, model: { kind: 'additive', normalize: 'none' } })
    expect(d.noise).not.toHaveProperty('sigma')
    expect(d.analog).toMatchObject({ layers: 'dense', integration: 'ordered', fill: 0.5 })
  })

  it('reads bounds of nested number fields', () => {
    expect(numberBounds('epochs')).toEqual({ min: 1, max: 1000, integer: true })
    expect(numberBounds('noise.sigma')).toEqual({ min: 0, max: 1000, integer: false })
    expect(numberBounds('qat.weightBits')).toEqual({ min: 2, max: 16, integer: true })
    expect(numberBounds('no.such')).toEqual({ integer: false })
  })

  it('accepts what the schema accepts and says in a sentence what it refuses', () => {
    expect(trainFormIssues({ architecture: 'mlp-tfc', noise: { sigma: 0.5 } })).toEqual([])
    expect(trainFormIssues({ noise: {} })).toEqual([{ path: 'noise.sigma', message: 'Noise σ needs a number.' }])
    expect(trainFormIssues({ noise: { sigma: 2000 } })).toEqual([{ path: 'noise.sigma', message: 'Noise σ must be at most 1000.' }])
    expect(trainFormIssues({ epochs: 1.5 })).toEqual([{ path: 'epochs', message: 'Epochs must be a whole number.' }])
    expect(trainFormIssues({ noise: { sigma: 1, points: [] } })).toEqual([{ path: 'noise.points', message: 'Noise points needs at least one entry.' }])
    expect(trainFormIssues({ learningRate: 0 })).toEqual([{ path: 'learningRate', message: 'Learning rate must be more than 0.' }])
    // The form and the CLI refuse the same: whatever the form lets through parses.
    expect(() => TrainParams.parse({ qat: trainGroupDefaults().qat })).not.toThrow()
  })
})

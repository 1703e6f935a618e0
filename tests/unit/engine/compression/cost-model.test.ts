import { describe, expect, it } from 'vitest'
import { buildCostModel, predictionError, type CostSample } from '../../../../src-main/engine/compression/cost-model.ts'

// A layer whose true time is 2 µs + 0.01 µs per input channel·pixel + 0.001 µs per MAC at 8 bits (twice that at float).
const truth = (inputs: number, macs: number, bits: number) => (bits === 32 ? 2 : 1) * (2e-6 + 1e-8 * inputs + 1e-9 * macs)

/** The uniform grid's diagonal: keep k scales both the inputs (the previous layer's keep) and the outputs. */
function diagonal(layer: string, fullInputs: number, fullOutputs: number, bits: number): CostSample[] {
  return [0.1, 0.25, 0.5, 0.75, 1].map((k) => {
    const inputs = Math.round(fullInputs * k)
    const macs = inputs * Math.round(fullOutputs * k) * 9
    return { layer, inputs, macs, bits, seconds: truth(inputs, macs, bits) }
  })
}

describe('per-layer latency cost model', () => {
  const model = buildCostModel([...diagonal('conv2', 64, 128, 8), ...diagonal('conv2', 64, 128, 32), ...diagonal('conv2', 64, 128, 2)])

  it('recovers a layer that follows t = a + b·inputs + c·MACs, on the profiled diagonal and off it', () => {
    // On the diagonal.
    expect(model.layerSeconds({ layer: 'conv2', inputs: 64, macs: 64 * 128 * 9, bits: 8 })).toBeCloseTo(truth(64, 64 * 128 * 9, 8), 10)
    // Off it: all inputs kept but one output in ten (the previous layer unpruned, this one pruned hard).
    expect(model.layerSeconds({ layer: 'conv2', inputs: 64, macs: 64 * 13 * 9, bits: 8 })).toBeCloseTo(truth(64, 64 * 13 * 9, 8), 10)
    // And the other way round.
    expect(model.layerSeconds({ layer: 'conv2', inputs: 6, macs: 6 * 128 * 9, bits: 32 })).toBeCloseTo(truth(6, 6 * 128 * 9, 32), 10)
  })

  it('fits a first layer whose input channels never change (collinear with the constant)', () => {
    const first: CostSample[] = [0.1, 0.25, 0.5, 1].map((k) => ({ layer: 'conv1', inputs: 1, macs: 100 * k, bits: 8, seconds: 5e-6 + 1e-8 * 100 * k }))
    const fit = buildCostModel(first)
    expect(fit.layerSeconds({ layer: 'conv1', inputs: 1, macs: 30, bits: 8 })).toBeCloseTo(5e-6 + 3e-7, 11)
  })

  it('interpolates linearly in bits between profiled widths; every width above 8 bits is float', () => {
    const q = { layer: 'conv2', inputs: 32, macs: 32 * 64 * 9 }
    const at2 = model.layerSeconds({ ...q, bits: 2 })
    const at8 = model.layerSeconds({ ...q, bits: 8 })
    expect(model.layerSeconds({ ...q, bits: 5 })).toBeCloseTo((at2 + at8) / 2, 12)
    expect(model.layerSeconds({ ...q, bits: 16 })).toBeCloseTo(truth(32, 32 * 64 * 9, 32), 12)
    expect(model.layerSeconds({ ...q, bits: 1 })).toBeCloseTo(at2, 12)
  })

  it('sums layers for a network, is never negative, and names a layer it never measured', () => {
    const both = buildCostModel([...diagonal('a', 10, 10, 8), ...diagonal('b', 10, 10, 8)])
    const q = { inputs: 10, macs: 900, bits: 8 }
    expect(
      both.networkSeconds([
        { layer: 'a', ...q },
        { layer: 'b', ...q },
      ]),
    ).toBeCloseTo(2 * truth(10, 900, 8), 12)
    expect(both.layerSeconds({ layer: 'a', inputs: 0, macs: 0, bits: 8 })).toBeGreaterThanOrEqual(0)
    expect(() => both.layerSeconds({ layer: 'conv9', inputs: 1, macs: 1, bits: 8 })).toThrow(/conv9/)
    expect(() => buildCostModel([{ layer: 'x', inputs: 1, macs: 1, bits: 8, seconds: Number.NaN }])).toThrow(/not a time/)
  })

  it('reports the median and worst relative error over measured policies', () => {
    const error = predictionError([
      { predicted: 1.1, measured: 1 },
      { predicted: 0.5, measured: 1 },
      { predicted: 1, measured: 1 },
    ])!
    expect(error.median).toBeCloseTo(0.1, 12)
    expect(error.worst).toBeCloseTo(0.5, 12)
    expect(error.count).toBe(3)
    expect(predictionError([])).toBeNull()
  })
})

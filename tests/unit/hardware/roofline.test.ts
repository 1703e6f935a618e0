import { describe, expect, it } from 'vitest'
import { ridgePoints, roofline, type Ceilings } from '../../../src-main/hardware/roofline.ts'
import { bitSerialCeilings } from '../../../src-main/hardware/roofline-study.ts'

const ceilings: Ceilings = {
  peakOpsPerSecond: 100e9,
  memory: [
    { level: 'DRAM', bytesPerSecond: 10e9 },
    { level: 'L1', bytesPerSecond: 200e9, capacityBytes: 32 * 1024 },
    { level: 'L2', bytesPerSecond: 50e9, capacityBytes: 1024 * 1024 },
  ],
}

describe('roofline', () => {
  it('puts the ridge of each level where its bandwidth line meets the peak', () => {
    expect(ridgePoints(ceilings)).toEqual([
      { level: 'DRAM', intensity: 10 },
      { level: 'L1', intensity: 0.5 },
      { level: 'L2', intensity: 2 },
    ])
  })

  it('judges an operator against the level that holds its working set', () => {
    // intensity 1 op/byte: L1 ceiling = min(100, 200) = 100 G (compute binds); L2 = 50 G (memory binds).
    const [inL1, inL2, inDram] = roofline(ceilings, [
      { name: 'small', ops: 1e9, bytes: 1e9, seconds: 0.02, workingSetBytes: 16 * 1024 },
      { name: 'medium', ops: 1e9, bytes: 1e9, seconds: 0.04, workingSetBytes: 512 * 1024 },
      { name: 'large', ops: 1e9, bytes: 1e9, seconds: 0.2, workingSetBytes: 64 * 1024 * 1024 },
    ])
    expect(inL1).toMatchObject({ memoryLevel: 'L1', binding: 'compute', ceilingOpsPerSecond: 100e9, intensity: 1 })
    expect(inL1!.fractionOfCeiling).toBeCloseTo(0.5, 12)
    expect(inL2).toMatchObject({ memoryLevel: 'L2', binding: 'L2', ceilingOpsPerSecond: 50e9 })
    expect(inL2!.fractionOfCeiling).toBeCloseTo(0.5, 12)
    expect(inDram).toMatchObject({ memoryLevel: 'DRAM', binding: 'DRAM', ceilingOpsPerSecond: 10e9 })
    expect(inDram!.fractionOfCeiling).toBeCloseTo(0.5, 12)
  })

  it('uses a forced level, else the slowest level when no size is known, and reports every level', () => {
    const [forced, unsized] = roofline(ceilings, [
      { name: 'f', ops: 40e9, bytes: 1e9, seconds: 1, memoryLevel: 'L2' },
      { name: 'u', ops: 40e9, bytes: 1e9, seconds: 1 },
    ])
    expect(forced).toMatchObject({ memoryLevel: 'L2', binding: 'compute', ceilingOpsPerSecond: 100e9 })
    expect(forced!.fractionOfCeiling).toBeCloseTo(0.4, 12)
    expect(unsized).toMatchObject({ memoryLevel: 'DRAM', binding: 'compute' })
    expect(unsized!.perLevel.map((l) => [l.level, l.binding])).toEqual([
      ['DRAM', 'compute'],
      ['L1', 'compute'],
      ['L2', 'compute'],
    ])
    const [low] = roofline(ceilings, [{ name: 'low', ops: 1e9, bytes: 1e9, seconds: 1 }])
    expect(low!.perLevel.find((l) => l.level === 'DRAM')).toMatchObject({ binding: 'memory', ceilingOpsPerSecond: 10e9 })
  })

  it('refuses impossible input with a sentence naming it', () => {
    expect(() => roofline({ peakOpsPerSecond: 0, memory: ceilings.memory }, [])).toThrow('The peak ops per second must be a positive number, got 0.')
    expect(() => roofline(ceilings, [{ name: 'g', ops: 1, bytes: 0, seconds: 1 }])).toThrow('The bytes of g must be a positive number, got 0.')
    expect(() => roofline(ceilings, [{ name: 'g', ops: 1, bytes: 1, seconds: 1, memoryLevel: 'L3' }])).toThrow(/names memory level L3/)
    expect(() => ridgePoints({ peakOpsPerSecond: 1, memory: [] })).toThrow(/at least one memory bandwidth/)
  })
})

describe('bitSerialCeilings', () => {
  it('scales the compute peak by the one-bit operands a 32-bit lane carries, and leaves the memory levels alone', () => {
    expect(bitSerialCeilings(ceilings, 1).peakOpsPerSecond).toBe(3200e9)
    expect(bitSerialCeilings(ceilings, 2).peakOpsPerSecond).toBe(800e9)
    expect(bitSerialCeilings(ceilings, 4).peakOpsPerSecond).toBe(200e9)
    expect(bitSerialCeilings(ceilings, 2).memory).toEqual(ceilings.memory)
  })
})

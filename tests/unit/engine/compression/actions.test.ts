import { describe, expect, it } from 'vitest'
import { LayerPolicy } from '../../../../src-main/contract/compression.ts'
import { ACTIONS_PER_LAYER, MIN_KEEP, actionToKeep, layerPolicyFromActions, ratioToBits } from '../../../../src-main/engine/compression/actions.ts'

const EPS = 1e-9

describe('ratioToBits', () => {
  it('keeps float up to 0.2 and int8 up to 0.5', () => {
    expect(ratioToBits(0)).toBe(32)
    expect(ratioToBits(0.2)).toBe(32)
    expect(ratioToBits(0.2 + EPS)).toBe(8)
    expect(ratioToBits(0.35)).toBe(8)
    expect(ratioToBits(0.5)).toBe(8)
  })

  it('maps (0.5, 1] to maxBits … 1 bits', () => {
    expect(ratioToBits(0.5 + EPS)).toBe(6)
    expect(ratioToBits(0.5 + EPS, 8)).toBe(8)
    expect(ratioToBits(1)).toBe(1)
    expect(ratioToBits(1, 8)).toBe(1)
    // B = 6: r' = (ratio − 0.5)/0.5, bits = ⌊(1 − r')·6⌋ + 1.
    expect(ratioToBits(0.6)).toBe(5) // r' = 0.2: ⌊4.8⌋ + 1
    expect(ratioToBits(0.75)).toBe(4) // r' = 0.5: ⌊3⌋ + 1
    expect(ratioToBits(0.9)).toBe(2) // r' = 0.8: ⌊1.2⌋ + 1
    expect(ratioToBits(1 - EPS)).toBe(1)
    expect(ratioToBits(0.75, 8)).toBe(5)
    expect(ratioToBits(0.99, 1)).toBe(1)
  })

  it('gives bits the contract accepts everywhere on [0, 1]', () => {
    for (const maxBits of [1, 6, 8]) {
      const seen = new Set<number>()
      for (let i = 0; i <= 1000; i++) seen.add(ratioToBits(i / 1000, maxBits))
      const mixed = Array.from({ length: maxBits }, (_, i) => i + 1)
      expect([...seen].sort((a, b) => a - b)).toEqual([...new Set([...mixed, 8, 32])].sort((a, b) => a - b))
    }
  })

  it('refuses ratios outside [0, 1] and bad maxBits', () => {
    for (const bad of [-0.01, 1.01, NaN, Infinity]) expect(() => ratioToBits(bad)).toThrow(/ratio must be a number from 0 to 1/)
    for (const bad of [0, 9, 2.5]) expect(() => ratioToBits(0.7, bad)).toThrow(/maxBits must be a whole number from 1 to 8/)
  })
})

describe('actionToKeep', () => {
  it('keeps everything at 0 and MIN_KEEP at 1, linearly between', () => {
    expect(actionToKeep(0)).toBe(1)
    expect(actionToKeep(1)).toBeCloseTo(MIN_KEEP, 12)
    expect(actionToKeep(0.5)).toBeCloseTo(0.55, 12)
    expect(() => actionToKeep(1.5)).toThrow(/pruning action must be a number from 0 to 1/)
  })
})

describe('layerPolicyFromActions', () => {
  const layer = { id: 'conv2', prunable: true }
  const fixed = { id: 'conv3', prunable: false }

  it('reads one, two or three actions per layer', () => {
    expect(ACTIONS_PER_LAYER).toEqual({ prune: 1, quant: 2, joint: 3 })
    expect(layerPolicyFromActions('prune', [0.5], layer, 6)).toEqual({ layer: 'conv2', keep: 0.55, weightBits: 32, activationBits: 32 })
    expect(layerPolicyFromActions('quant', [0.4, 1], layer, 6)).toEqual({ layer: 'conv2', keep: 1, weightBits: 1, activationBits: 8 })
    expect(layerPolicyFromActions('joint', [1, 0.1, 0.6], layer, 8)).toEqual({ layer: 'conv2', keep: actionToKeep(1), weightBits: 7, activationBits: 32 })
  })

  it('never prunes a layer that may not be pruned', () => {
    expect(layerPolicyFromActions('prune', [1], fixed, 6).keep).toBe(1)
    expect(layerPolicyFromActions('joint', [0.9, 0.9, 0.9], fixed, 6)).toEqual({ layer: 'conv3', keep: 1, weightBits: 2, activationBits: 2 })
  })

  it('gives policies the contract accepts', () => {
    for (const agent of ['prune', 'quant', 'joint'] as const) {
      for (const a of [0, 0.2, 0.21, 0.5, 0.51, 1]) {
        const policy = layerPolicyFromActions(agent, new Array<number>(ACTIONS_PER_LAYER[agent]).fill(a), layer, 6)
        expect(LayerPolicy.safeParse(policy).success).toBe(true)
      }
    }
  })

  it('refuses the wrong number of actions or values outside [0, 1]', () => {
    expect(() => layerPolicyFromActions('joint', [0.1, 0.2], layer, 6)).toThrow("The 'joint' agent takes 3 actions per layer, got 2 for layer 'conv2'")
    expect(() => layerPolicyFromActions('prune', [], layer, 6)).toThrow("The 'prune' agent takes 1 action per layer, got 0")
    expect(() => layerPolicyFromActions('quant', [0.1, NaN], layer, 6)).toThrow(/Action 1 for layer 'conv2' must be a number from 0 to 1, got NaN/)
    expect(() => layerPolicyFromActions('quant', [-0.1, 0.5], layer, 6)).toThrow(/Action 0 .* got -0.1/)
  })
})

import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { combineHooks } from '../../../src-main/engine/hooks.ts'
import type { ComputeOverride, Hooks, InjectionPoint } from '../../../src-main/engine/network.ts'

const point = { id: 'fc1.relu' } as InjectionPoint

describe('combineHooks', () => {
  it('runs after-hooks on the same point in the order given', () => {
    const double: Hooks = { after: new Map([['fc1.relu', (v: tf.Tensor) => tf.mul(v, 2)]]) }
    const addOne: Hooks = { after: new Map([['fc1.relu', (v: tf.Tensor) => tf.add(v, 1)]]) }
    const x = tf.tensor1d([1, 2])
    expect(Array.from(combineHooks(double, addOne)!.after!.get('fc1.relu')!(x, point, false).dataSync())).toEqual([3, 5])
    expect(Array.from(combineHooks(addOne, double)!.after!.get('fc1.relu')!(x, point, false).dataSync())).toEqual([4, 6])
  })

  it('passes a single set through unchanged and pools variables', () => {
    const only: Hooks = { after: new Map() }
    expect(combineHooks(undefined, only, undefined)).toBe(only)
    expect(combineHooks(undefined)).toBeUndefined()
    const a = tf.variable(tf.scalar(1))
    const b = tf.variable(tf.scalar(2))
    const pooled = combineHooks({ variables: new Map([['x', a]]) }, { variables: new Map([['y', b]]) })!
    expect([...pooled.variables!.keys()]).toEqual(['x', 'y'])
  })

  it('refuses two compute overrides for one node', () => {
    const override: ComputeOverride = (input) => input
    expect(() => combineHooks({ compute: new Map([['fc1', override]]) }, { compute: new Map([['fc1', override]]) })).toThrow(
      /Two hook sets both replace how 'fc1' computes/,
    )
  })
})

import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterEach, describe, expect, it } from 'vitest'
import { initBackend, resolvePreference } from '../../../src-main/engine/backend.ts'

const require = createRequire(import.meta.url)

/** Installed, and with its native part: an install whose download failed (offline) leaves the package without lib/. */
const tfjsNode = (() => {
  try {
    const root = dirname(require.resolve('@tensorflow/tfjs-node/package.json'))
    return existsSync(join(root, 'lib')) ? 'built' : 'unbuilt'
  } catch {
    return 'absent'
  }
})()

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.BENCHSIDE_BACKEND
  })

  it('picks the fastest backend that loads and says why it fell back', async () => {
    const info = await initBackend('auto')
    expect(tf.getBackend()).toBe(info.name)
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/)
    if (tfjsNode === 'built') {
      expect(info.name).toBe('tensorflow')
    } else {
      expect(info.name).toBe('wasm')
      expect(info.fallbackReason).toMatch(tfjsNode === 'absent' ? /tfjs-node is not installed/ : /tfjs-node did not load/)
      expect(info.simd).toBe(true)
      expect(info.threads).toBeGreaterThanOrEqual(1)
    }
  })

  it('is idempotent: a repeated call shares the first initialisation', async () => {
    const first = await initBackend('auto')
    const second = await initBackend('auto')
    expect(second).toBe(first)
  })

  it('registers the wasm training kernels when wasm is chosen, so a conv net trains', async () => {
    const info = await initBackend('wasm')
    expect(info.name).toBe('wasm')
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined()
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2))
    const { grads } = tf.variableGrads(
      () =>
        tf
          .conv2d(x, w as tf.Tensor4D, 1, 'same')
          .square()
          .mean() as tf.Scalar,
      [w],
    )
    const grad = grads[w.name]
    if (grad === undefined) throw new Error(`variableGrads returned no gradient for ${w.name}.`)
    expect(grad.shape).toEqual([3, 3, 3, 4])
    expect(Number.isFinite(grad.sum().dataSync()[0])).toBe(true)
  })

  it('falls back from an unavailable tensorflow preference and records the reason', async () => {
    const info = await initBackend('tensorflow')
    if (tfjsNode === 'built') {
      expect(info.name).toBe('tensorflow')
    } else {
      expect(info.name).toBe('wasm')
      expect(info.fallbackReason).toMatch(/tensorflow: .*tfjs-node/)
    }
  })

  it('switches when a different backend is asked for', async () => {
    const cpu = await initBackend('cpu')
    expect(cpu).toMatchObject({ name: 'cpu', version: tf.version_core })
    expect(tf.getBackend()).toBe('cpu')
    const wasm = await initBackend('wasm')
    expect(wasm.name).toBe('wasm')
    expect(tf.getBackend()).toBe('wasm')
  })

  it('lets BENCHSIDE_BACKEND override the preference', async () => {
    process.env.BENCHSIDE_BACKEND = 'cpu'
    expect(resolvePreference('wasm')).toBe('cpu')
    const info = await initBackend('wasm')
    expect(info.name).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
  })

  it('rejects a BENCHSIDE_BACKEND that names no backend, saying what to set', async () => {
    process.env.BENCHSIDE_BACKEND = 'gpu'
    await expect(initBackend()).rejects.toThrow(/BENCHSIDE_BACKEND is 'gpu'.*auto, tensorflow, wasm, cpu/)
  })
})

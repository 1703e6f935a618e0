// The full Fashion-MNIST from Debian's dataset-fashion-mnist: offered as a built-in dataset when installed, and read whole.
import { describe, expect, it } from 'vitest'
import { builtinDatasets, loadDataset } from '../../../../src-main/engine/data/registry.ts'
import { FASHION_MNIST_CLASSES, SYSTEM_FASHION_MNIST } from '../../../../src-main/engine/data/sources.ts'
import { SYSTEM_FASHION_MNIST_DIR } from '../../../../src-main/services/system-components.ts'
import { requires } from '../../../helpers/components.ts'

describe('the system Fashion-MNIST', () => {
  it('is looked for where the doctor and the test suite look for it', () => {
    expect(SYSTEM_FASHION_MNIST).toBe(SYSTEM_FASHION_MNIST_DIR)
  })

  it('is offered and loads with 60,000 training and 10,000 test images', requires('fashion-mnist'), () => {
    const source = builtinDatasets().find((d) => d.id === 'fashion-mnist')
    expect(source).toMatchObject({ origin: 'system', format: 'idx', path: SYSTEM_FASHION_MNIST })
    const dataset = loadDataset(source!)
    expect(dataset.sampleShape).toEqual([28, 28, 1])
    expect([dataset.train.count, dataset.test.count]).toEqual([60_000, 10_000])
    expect(dataset.classNames).toEqual(FASHION_MNIST_CLASSES)
    const perClass = new Array<number>(10).fill(0)
    for (const label of dataset.test.y) perClass[label]!++
    expect(perClass).toEqual(new Array(10).fill(1000))
  })
})

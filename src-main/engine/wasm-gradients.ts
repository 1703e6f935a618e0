// Registers, for the wasm backend only, the training kernels stock tfjs-backend-wasm lacks or runs on slow scalar paths.
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { conv2dFilterGrad, conv2dInputGrad, convGeometry } from './wasm-gradients/conv2d.ts'
import { depthwiseFilterGrad, depthwiseInputGrad } from './wasm-gradients/depthwise.ts'
import type { Info } from './wasm-gradients/kernel-calls.ts'
import { makeFastBatchMatMul } from './wasm-gradients/matmul.ts'
import { maxPoolGrad } from './wasm-gradients/max-pool.ts'
import { makeFastBatchNorm, makeFastBinary } from './wasm-gradients/broadcast.ts'
import { makeLeadingReduce } from './wasm-gradients/reduce.ts'
import { registerDilatedConv2DGradient } from './wasm-gradients/dilated-conv-gradient.ts'
import { registerBatchNormGradient } from './wasm-gradients/batch-norm-gradient.ts'

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
type Rounding = 'floor' | 'round' | 'ceil' | undefined

const BROADCAST_KERNELS = ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum', 'Minimum'] as const

/** Kernels added because wasm has none. */
export const ADDED_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'] as const
/** Stock wasm kernels replaced because they run on scalar loops. */
export const REPLACED_KERNELS = ['Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'FusedBatchNorm', 'Sum', 'Mean', ...BROADCAST_KERNELS] as const

let registered = false

/**
 * Idempotent; needs '@tensorflow/tfjs-backend-wasm' imported (its stock kernels are wrapped), and works before or after
 * the wasm backend is initialised. Returns the kernel names it touched.
 */
export function registerWasmGradients(): string[] {
  if (registered) return [...ADDED_KERNELS, ...REPLACED_KERNELS]
  // Checked up front so a missing package leaves nothing half-registered.
  const missing = REPLACED_KERNELS.filter((name) => tf.getKernel(name, 'wasm') === undefined)
  if (missing.length > 0) {
    throw new Error(
      `The wasm backend's kernels (${missing.join(', ')}) are not registered; import '@tensorflow/tfjs-backend-wasm' before registering Benchside's kernels.`,
    )
  }
  registered = true

  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: Info; dy: Info }
      const a = attrs as { strides: [number, number]; pad: Pad; dimRoundingMode: Rounding; filterShape: number[] }
      const g = convGeometry(x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode)
      return conv2dFilterGrad(backend as BackendWasm, x, dy, g)
    },
  })

  replaceKernel('Conv2DBackpropInput', (stock) => (args) => {
    const { dy, filter } = args.inputs as { dy: Info; filter: Info }
    const a = args.attrs as { strides: [number, number]; pad: Pad; dimRoundingMode: Rounding; inputShape: number[] }
    const g = convGeometry(a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode)
    return conv2dInputGrad(args.backend as BackendWasm, dy, filter, g) ?? stock(args)
  })

  replaceKernel('BatchMatMul', makeFastBatchMatMul)

  // The stock kernel is wrong (not merely slow) when a window's values are all negative.
  replaceKernel('MaxPoolGrad', () => ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: Info; input: Info }
    const a = attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: Pad; dimRoundingMode: Rounding }
    return maxPoolGrad(backend as BackendWasm, dy, input, a.filterSize, a.strides, a.pad, a.dimRoundingMode)
  })

  for (const name of BROADCAST_KERNELS) replaceKernel(name, makeFastBinary)
  replaceKernel('FusedBatchNorm', makeFastBatchNorm)
  replaceKernel('Sum', (stock) => makeLeadingReduce(stock, false))
  replaceKernel('Mean', (stock) => makeLeadingReduce(stock, true))

  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as { dy: Info; filter: Info }
      const a = attrs as { strides: [number, number]; dilations: [number, number]; pad: Pad; dimRoundingMode: Rounding; inputShape: number[] }
      const g = convGeometry(a.inputShape, filter.shape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true)
      return depthwiseInputGrad(backend as BackendWasm, dy, filter, g)
    },
  })

  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: Info; dy: Info }
      const a = attrs as {
        strides: [number, number]
        dilations: [number, number]
        pad: Pad
        dimRoundingMode: Rounding
        filterShape: [number, number, number, number]
      }
      const g = convGeometry(x.shape, a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true)
      return depthwiseFilterGrad(backend as BackendWasm, x, dy, g, a.filterShape[3])
    },
  })

  registerDilatedConv2DGradient()
  registerBatchNormGradient()
  return [...ADDED_KERNELS, ...REPLACED_KERNELS]
}

type KernelFunc = tf.KernelConfig['kernelFunc']

/** Swaps a stock wasm kernel's function, keeping its setup so the stock one stays callable as a fallback. */
function replaceKernel(name: string, wrap: (stock: KernelFunc) => KernelFunc): void {
  const stock = tf.getKernel(name, 'wasm')!
  tf.unregisterKernel(name, 'wasm')
  tf.registerKernel({ ...stock, kernelFunc: wrap(stock.kernelFunc) })
}

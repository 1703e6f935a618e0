// The hooks a stored model is evaluated with: its frozen quantization (QAT models) or its per-layer mixed precision
// (compressed models), so evaluations and sweeps see the model as it was trained.
import { precisionHooks } from './compression/precision.ts'
import type { ModelMetadata } from './model-files.ts'
import type { Hooks, Network } from './network.ts'
import { frozenQuantHooks } from './quant.ts'

export function storedModelHooks(net: Network, metadata: ModelMetadata): Hooks | undefined {
  if (metadata.quant) return frozenQuantHooks(net, metadata.quant)
  const compression = metadata.compression
  if (compression && compression.policy.some((l) => l.weightBits !== 32 || l.activationBits !== 32)) {
    const policy = {
      format: 'benchside-compression-policy' as const,
      version: 1 as const,
      architecture: metadata.spec.architecture,
      layers: compression.policy,
    }
    return precisionHooks(net, policy, new Map(Object.entries(compression.inputRanges)))
  }
  return undefined
}

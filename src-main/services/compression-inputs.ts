// Checks a compression job before it becomes a run: the model has something to compress and a policy fits it, so bad
// input is refused with a plain sentence and leaves no run behind.
import { BenchsideError, type Policy } from '../contract/index.ts'
import { compressibleLayers } from '../engine/compression/layers.ts'
import { checkPolicy } from '../engine/compression/policy.ts'
import type { ModelMetadata } from '../engine/model-files.ts'
import { engine } from './lazy-engine.ts'

export function checkCompressible(metadata: ModelMetadata, policy: Policy | null): void {
  const net = new (engine().network.Network)(metadata.spec)
  try {
    if (compressibleLayers(net).length === 0) {
      throw new BenchsideError({
        code: 'INVALID_ARGS',
        field: 'params.modelUuid',
        message: `${metadata.spec.architecture} has no compressible layer: compression needs a dense or conv layer besides the classifier.`,
      })
    }
    if (policy) {
      try {
        checkPolicy(net, policy)
      } catch (error) {
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'params.policy', message: error instanceof Error ? error.message : String(error) })
      }
    }
  } finally {
    net.dispose()
  }
}

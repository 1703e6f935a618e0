// Layer-by-layer latency of a network on a board: its dense and conv layers as the agent's `network` model string,
// with an optional per-layer policy (fraction of output channels kept, bits).
import type { Board } from './board.ts'

export interface LayerShape {
  id: string
  op: 'dense' | 'conv2d'
  /** dense: in, out. conv: cin, cout, h, w (input), k, stride, pad. */
  fields: Record<string, number>
}

export interface LayerPolicy {
  keep: number
  bits: number
}

export interface LayerLatency {
  id: string
  op: string
  kernel: string
  medianS: number
  minS: number
  maxS: number
  ops: number
  keep: number
  bits: number
  /** Bytes the layer moves at least once (weights at its bits, fp32 activations in and out), for its roofline intensity. */
  bytes: number
}

export function agentModel(layers: readonly LayerShape[]): string {
  return layers
    .map(
      (l) =>
        `${l.op === 'dense' ? 'dense' : 'conv'}:${Object.entries(l.fields)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
    )
    .join(';')
}

/**
 * What a layer timing depends on: the architecture, every timed layer's shape and the policy. Models that share it take
 * the same time on a board, so one timing serves them all (another training of the same architecture, say).
 */
export function layerTimingKey(architecture: string, layers: readonly LayerShape[], policy: readonly LayerPolicy[] | null): string {
  const policyText = policy ? policy.map((p) => `${p.keep}x${p.bits}`).join(',') : 'full'
  return `${architecture}|${agentModel(layers)}|${policyText}`
}

/** The least a layer moves through memory: its kept weights at `bits`, its input and kept output as fp32. */
export function layerBytes(layer: LayerShape, keep: number, bits: number): number {
  const f = layer.fields
  if (layer.op === 'dense') {
    const out = Math.max(1, Math.round(f['out']! * keep))
    return (f['in']! * out * bits) / 8 + (f['in']! + out) * 4
  }
  const cout = Math.max(1, Math.round(f['cout']! * keep))
  const stride = f['stride'] ?? 1
  const pad = f['pad'] ?? 0
  const ho = Math.floor((f['h']! + 2 * pad - f['k']!) / stride) + 1
  const wo = Math.floor((f['w']! + 2 * pad - f['k']!) / stride) + 1
  return (cout * f['cin']! * f['k']! * f['k']! * bits) / 8 + (f['cin']! * f['h']! * f['w']! + cout * ho * wo) * 4
}

export async function measureLayerLatency(
  board: Board,
  layers: readonly LayerShape[],
  policy: readonly LayerPolicy[] | null,
  options: { signal?: AbortSignal; threads?: number } = {},
): Promise<{ layers: LayerLatency[]; totalS: number }> {
  if (layers.length === 0) throw new Error('The model has no dense or conv layers to time.')
  const keep = policy?.map((p) => p.keep) ?? layers.map(() => 1)
  const bits = policy?.map((p) => p.bits) ?? layers.map(() => 32)
  const answer = await board.run(
    'network',
    { model: agentModel(layers), keep, bits, threads: options.threads ?? 1, warmup: 1, repeat: 5, min_repeat_ms: 20 },
    { signal: options.signal, timeoutMs: 600_000 },
  )
  const timed = answer.layers as { kernel: string; median_s: number; min_s: number; max_s: number; ops: number; keep: number; bits: number }[]
  return {
    layers: timed.map((t, i) => ({
      id: layers[i]!.id,
      op: layers[i]!.op,
      kernel: t.kernel,
      medianS: t.median_s,
      minS: t.min_s,
      maxS: t.max_s,
      ops: t.ops,
      keep: t.keep,
      bits: t.bits,
      bytes: layerBytes(layers[i]!, t.keep, t.bits),
    })),
    totalS: (answer.total as { median_s: number }).median_s,
  }
}

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
    })),
    totalS: (answer.total as { median_s: number }).median_s,
  }
}

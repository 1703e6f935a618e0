// A network's dense and conv layers in the board agent's terms (layer-latency.ts), from its spec and point shapes.
import type { Network } from '../engine/network.ts'
import type { LayerShape } from '../hardware/layer-latency.ts'

/** Depthwise convs are not timed by the agent yet; they are listed in `skipped`. */
export function boardLayersOf(net: Network): { layers: LayerShape[]; skipped: string[] } {
  const layers: LayerShape[] = []
  const skipped: string[] = []
  for (const node of net.spec.nodes) {
    const input = net.point(node.id).inputShapes[0] ?? []
    if (node.op === 'dense') layers.push({ id: node.id, op: 'dense', fields: { in: input.reduce((a, b) => a * b, 1), out: node.units } })
    else if (node.op === 'conv2d') {
      const pad = (node.padding ?? 'same') === 'same' ? Math.floor(node.kernel / 2) : 0
      layers.push({
        id: node.id,
        op: 'conv2d',
        fields: { cin: input[2]!, cout: node.filters, h: input[0]!, w: input[1]!, k: node.kernel, stride: node.stride ?? 1, pad },
      })
    } else if (node.op === 'depthwiseConv2d') skipped.push(node.id)
  }
  return { layers, skipped }
}

// Compression room: a model's compressible layers, a policy's costs and predicted latency for the policy editor, and
// "measure on board". Predictions come from the latency table's profile of the model on that board (no measuring).
import { BenchsideError, type CompressibleLayer, type Policy, type PolicyEvaluation } from '../contract/index.ts'
import type { CostModel } from '../engine/compression/cost-model.ts'
import type { Network } from '../engine/network.ts'
import type { BoardAccess } from '../jobs/board-access.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import type { ModelCatalog } from './models.ts'
import { engine, loadEngine } from './lazy-engine.ts'

type Compression = {
  layers: typeof import('../engine/compression/layers.ts')
  policy: typeof import('../engine/compression/policy.ts')
  costs: typeof import('../engine/compression/costs.ts')
  costModel: typeof import('../engine/compression/cost-model.ts')
  latency: typeof import('../jobs/compression-latency.ts')
  server: typeof import('../jobs/latency-server.ts')
}

let modules: Compression | null = null
/** Loaded on first use: they bring tfjs, which a host that never compresses does not need. */
async function compression(): Promise<Compression> {
  await loadEngine()
  if (!modules) {
    const [layers, policy, costs, costModel, latency, server] = await Promise.all([
      import('../engine/compression/layers.ts'),
      import('../engine/compression/policy.ts'),
      import('../engine/compression/costs.ts'),
      import('../engine/compression/cost-model.ts'),
      import('../jobs/compression-latency.ts'),
      import('../jobs/latency-server.ts'),
    ])
    modules = { layers, policy, costs, costModel, latency, server }
  }
  return modules
}

type Method = 'compressionLayers' | 'evaluatePolicy' | 'measurePolicy'
type Net = Network
type Layers = CompressibleLayer[]

export function compressionHandlers(store: Store, models: ModelCatalog, boards: BoardAccess): HandlersFor<Method> {
  /** The model's network (shapes only: the weights are not loaded) and its compressible layers. */
  const open = async (modelUuid: string) => {
    const c = await compression()
    const metadata = models.metadata(modelUuid)
    const net = new (engine().network.Network)(metadata.spec)
    return { c, net, layers: c.layers.compressibleLayers(net) }
  }
  const policyFor = (c: Compression, net: Net, layers: Layers, given: Policy | null) => given ?? c.policy.referencePolicy(layers, net.spec.architecture)
  const check = (c: Compression, net: Net, policy: Policy) => {
    try {
      c.policy.checkPolicy(net, policy)
    } catch (error) {
      throw new BenchsideError({ code: 'INVALID_ARGS', field: 'policy', message: error instanceof Error ? error.message : String(error) })
    }
  }
  /** The cost model from the profile grid, when every grid point is in the latency table for this board. */
  // A complete profile never changes (the table keeps it), so its fitted model is built once per network shape, board
  // and agent version; the editor asks on every edit. Incomplete ones are looked at again: a profile may be running.
  const fitted = new Map<string, CostModel>()
  const costModelOf = async (c: Compression, net: Net, layers: Layers, boardId: string) => {
    const key = JSON.stringify([boardId, (await board(boardId).info()).agentVersion, net.spec])
    const known = fitted.get(key)
    if (known) return { model: known, missing: 0 }
    const deps = { boards, latency: store.latency }
    const samples: ReturnType<Compression['latency']['costSamplesOf']> = []
    let missing = 0
    for (const grid of c.latency.profilePolicies(layers, net.spec.architecture)) {
      const network = c.latency.boardNetworkOf(net, grid, 1)
      const stored = await c.server.storedNetwork(deps, boardId, network.layers, network.bits)
      if (stored) samples.push(...c.latency.costSamplesOf(network, stored.layersS))
      else missing++
    }
    if (missing > 0) return { model: null, missing }
    const model = c.costModel.buildCostModel(samples)
    fitted.set(key, model)
    return { model, missing }
  }
  const predictedTotal = (c: Compression, net: Net, model: CostModel | null, policy: Policy) => {
    if (!model) return { total: null, layers: new Map<string, number>() }
    const perLayer = new Map(c.latency.costQueries(c.latency.boardNetworkOf(net, policy, 1)).map((q) => [q.layer, model.layerSeconds(q)]))
    return { total: [...perLayer.values()].reduce((a, b) => a + b, 0), layers: perLayer }
  }
  const board = (id: string) => {
    try {
      return boards.get(id)
    } catch (error) {
      throw new BenchsideError({ code: 'INVALID_ARGS', field: 'board', message: error instanceof Error ? error.message : String(error) })
    }
  }

  return {
    compressionLayers: async ({ modelUuid }) => {
      const { net, layers } = await open(modelUuid)
      net.dispose()
      return { architecture: net.spec.architecture, layers }
    },

    evaluatePolicy: async ({ modelUuid, board: boardId, policy: given }) => {
      const { c, net, layers } = await open(modelUuid)
      try {
        const policy = policyFor(c, net, layers, given)
        check(c, net, policy)
        const costs = c.costs.policyCosts(net, policy)
        const reference = c.costs.policyCosts(net, c.policy.referencePolicy(layers, net.spec.architecture))
        const { model, missing } = await costModelOf(c, net, layers, boardId)
        const predict = (p: Policy) => predictedTotal(c, net, model, p)
        const predicted = predict(policy)
        const result: PolicyEvaluation = {
          architecture: net.spec.architecture,
          layers: costs.layers.map((l) => ({ ...l, predictedLatencyS: predicted.layers.get(l.layer) ?? null })),
          macs: costs.macs,
          bops: costs.bops,
          params: costs.params,
          reference: {
            macs: reference.macs,
            bops: reference.bops,
            params: reference.params,
            predictedLatencyS: predict(c.policy.referencePolicy(layers, net.spec.architecture)).total,
          },
          predictedLatencyS: predicted.total,
          predictionMissing: model
            ? null
            : `This model has not been profiled on '${boardId}' yet (${missing} of ${c.costModel.PROFILE_POINTS} grid points missing): profile the board to see predicted latencies.`,
        }
        return result
      } finally {
        net.dispose()
      }
    },

    measurePolicy: async ({ modelUuid, board: boardId, policy: given }) => {
      const { c, net, layers } = await open(modelUuid)
      try {
        board(boardId)
        const policy = policyFor(c, net, layers, given)
        check(c, net, policy)
        const deps = { boards, latency: store.latency }
        const network = c.latency.boardNetworkOf(net, policy, 1)
        const referenceNetwork = c.latency.boardNetworkOf(net, c.policy.referencePolicy(layers, net.spec.architecture), 1)
        const timed = await c.server.measureNetwork(deps, boardId, network.layers, network.bits)
        const referenceTimed = await c.server.measureNetwork(deps, boardId, referenceNetwork.layers, referenceNetwork.bits)
        const { model } = await costModelOf(c, net, layers, boardId)
        return {
          latencyS: timed.totalS,
          referenceLatencyS: referenceTimed.totalS,
          predictedLatencyS: predictedTotal(c, net, model, policy).total,
          cached: timed.cached,
        }
      } finally {
        net.dispose()
      }
    },
  }
}

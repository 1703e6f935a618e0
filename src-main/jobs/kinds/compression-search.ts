// The compression-search job: a DDPG agent picks each layer's keep fraction and bit widths, every episode is applied,
// retrained, validated and timed on the board, and the reward steers the agent toward the target latency. Each
// episode is stored as it ends, with the agent and its replay buffer, so a killed search resumes where it stopped.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { CompressionEpisode, SensitivityCurves, type CompressionSearchResult, type LayerPolicy, type Policy } from '../../contract/index.ts'
import { ACTIONS_PER_LAYER, layerPolicyFromActions } from '../../engine/compression/actions.ts'
import { predictionError } from '../../engine/compression/cost-model.ts'
import { Ddpg, type DdpgState } from '../../engine/compression/ddpg.ts'
import { reward } from '../../engine/compression/rewards.ts'
import { sensitivityCurves } from '../../engine/compression/sensitivity.ts'
import { Standardizer, type StandardizerState } from '../../engine/compression/standardizer.ts'
import { layerState, stateSize } from '../../engine/compression/state.ts'
import type { JobContext } from '../context.ts'
import { CompressionBench } from '../compression-bench.ts'
import { finalPick, logEpisode, referenceOf, retrainAndTest, scorePolicy, type ScoredPolicy } from '../compression-episodes.ts'

const CHECKPOINT = 'search/checkpoint.json'

const Checkpoint = z.object({
  episodes: z.array(CompressionEpisode),
  sensitivity: z.array(SensitivityCurves),
  agent: z.custom<DdpgState>((v) => typeof v === 'object' && v !== null),
  standardizer: z.custom<StandardizerState>((v) => typeof v === 'object' && v !== null),
})
type Checkpoint = z.infer<typeof Checkpoint>

function readCheckpoint(context: Pick<JobContext, 'artifactDir' | 'resume'>): Checkpoint | null {
  const file = join(context.artifactDir, CHECKPOINT)
  if (!context.resume || !existsSync(file)) return null
  const parsed = Checkpoint.safeParse(JSON.parse(readFileSync(file, 'utf8')))
  // A checkpoint that does not read back starts the search afresh rather than failing the resume.
  return parsed.success ? parsed.data : null
}

export default async function compressionSearchJob(context: JobContext<'compression-search'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model, the dataset and the compute backend')
  const bench = await CompressionBench.open(context, context.inputs.modelJson, context.inputs.dataset, p)
  try {
    await search(context, bench)
  } finally {
    bench.dispose()
  }
}

async function search(context: JobContext<'compression-search'>, bench: CompressionBench): Promise<void> {
  const p = context.params
  const { layers } = bench
  const saved = readCheckpoint(context)
  context.param('architecture', bench.architecture)
  context.param('layers', layers.length)

  // Setup: 10% of the progress bar — profile, reference, sensitivity.
  context.progress(0.01, 'profiling', `timing the keep × bits grid on '${p.board}'`)
  await bench.profile((done, total) => context.progress(0.01 + 0.04 * (done / total), 'profiling', `${done} of ${total} grid points on '${p.board}'`))
  const referencePolicy = bench.referencePolicy()
  const reference = await referenceOf(bench, p.latency)
  context.progress(0.06, 'sensitivity', `${layers.length} layers on ${p.sensitivitySamples} samples`)
  const sensitivity =
    saved?.sensitivity ??
    (await (async () => {
      const x = bench.batch(bench.dataset.train, p.sensitivitySamples)
      try {
        return await sensitivityCurves(bench.reference, x, layers, {
          channelMultiple: p.channelMultiple,
          signal: context.signal,
          onProgress: (f) => context.progress(0.06 + 0.04 * f, 'sensitivity', `${Math.round(f * 100)}%`),
        })
      } finally {
        x.dispose()
      }
    })())

  const actionSize = ACTIONS_PER_LAYER[p.agent]
  const sensitivityPoints = (sensitivity[0]?.keep.length ?? 0) + (sensitivity[0]?.weightBits.length ?? 0) + (sensitivity[0]?.activationBits.length ?? 0)
  const options = { stateSize: stateSize(sensitivityPoints, actionSize), actionSize, seed: p.seed }
  const agent = saved ? Ddpg.fromJSON(saved.agent, options) : new Ddpg(options)
  const standardizer = saved ? Standardizer.fromJSON(saved.standardizer) : new Standardizer(options.stateSize)
  const episodes: CompressionSearchResult['episodes'] = saved?.episodes ?? []
  const report = (pick: CompressionSearchResult['pick']) =>
    context.result({
      modelUuid: context.inputs.modelUuid,
      architecture: bench.architecture,
      board: p.board,
      target: p.target,
      agent: p.agent,
      reward: p.reward,
      layers,
      reference,
      sensitivity,
      episodes,
      costModelError: predictionError(
        episodes.flatMap((e) => (e.latencyS !== null && e.predictedLatencyS !== null ? [{ predicted: e.predictedLatencyS, measured: e.latencyS }] : [])),
      ),
      pick,
    })
  report(null)

  try {
    for (let e = episodes.length; e < p.episodes; e++) {
      if (context.signal.aborted) throw context.signal.reason
      const warmup = e < p.warmupEpisodes
      // The agent walks the layers: each step sees the cost of what it chose so far.
      const chosen: LayerPolicy[] = []
      const states: number[][] = []
      const actions: number[][] = []
      let previous = new Array<number>(actionSize).fill(0)
      for (let t = 0; t < layers.length; t++) {
        const partial: Policy = { ...referencePolicy, layers: [...chosen, ...referencePolicy.layers.slice(t)] }
        const costs = bench.costs(partial)
        const raw = layerState(t, layers, { macs: costs.layers.map((l) => l.macs), bops: costs.layers.map((l) => l.bops) }, sensitivity[t], previous)
        standardizer.update(raw)
        const state = standardizer.transform(raw)
        const action = warmup ? agent.randomAction() : agent.act(state, true)
        chosen.push(layerPolicyFromActions(p.agent, action, layers[t]!, p.maxBits))
        states.push(state)
        actions.push(action)
        previous = action
      }
      const policy: Policy = { ...referencePolicy, layers: chosen }
      const scored = await scorePolicy(bench, policy, p, reference.latencyS, e, warmup ? 'warmup' : 'agent')
      const episode = { ...scored, reward: rewardOf(p, scored, reference) }
      episodes.push(episode)

      // Every step of the episode gets the episode's reward (HAQ); updates start after the warm-up.
      for (let t = 0; t < states.length; t++) {
        const last = t === states.length - 1
        agent.remember({ state: states[t]!, action: actions[t]!, reward: episode.reward, nextState: last ? states[t]! : states[t + 1]!, done: last })
        if (!warmup) agent.update()
        await new Promise((resolve) => setImmediate(resolve))
      }
      agent.endEpisode()

      // The checkpoint first: metrics of an episode the checkpoint lacks would be measured again after a crash.
      context.artifact(CHECKPOINT, JSON.stringify({ episodes, sensitivity, agent: agent.toJSON(), standardizer: standardizer.toJSON() } satisfies Checkpoint))
      logEpisode(context, episode)
      report(null)
      context.progress(
        0.1 + 0.8 * ((e + 1) / p.episodes),
        warmup ? 'warm-up' : 'searching',
        `episode ${e + 1} of ${p.episodes} · accuracy ${(episode.accuracy * 100).toFixed(1)}% · latency ×${episode.latencyRatio.toFixed(2)}`,
      )
    }
  } finally {
    agent.dispose()
  }

  const candidate = finalPick(episodes.slice(-p.pickWindow), p.target)
  if (!candidate) {
    context.progress(1, 'done', `no episode within ±0.05 of the target ×${p.target}; no final pick`)
    return
  }
  context.progress(0.9, 'final retraining', `episode ${candidate.episode + 1}, ${p.finalEpochs} epochs`)
  const pick = await retrainAndTest(bench, candidate, p.finalEpochs, p.seed, (f) =>
    context.progress(0.9 + 0.1 * f, 'final retraining', `episode ${candidate.episode + 1}`),
  )
  context.metric('final_test_accuracy', pick.testAccuracy, 0)
  report(pick)
  context.progress(1, 'done', `test accuracy ${(pick.testAccuracy * 100).toFixed(1)}% at latency ×${pick.latencyRatio.toFixed(2)}`)
}

function rewardOf(p: JobContext<'compression-search'>['params'], scored: Omit<ScoredPolicy, 'reward'>, reference: { accuracy: number }): number {
  return reward(p.reward, {
    accuracy: scored.accuracy,
    referenceAccuracy: Math.max(reference.accuracy, 1e-6),
    latencyRatio: Math.max(scored.latencyRatio, 1e-9),
    target: p.target,
    macs: Math.max(scored.macs, 1),
  })
}

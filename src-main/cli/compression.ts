// benchside compress: compression searches, baselines, applying a policy file, profiling a board, showing results.
import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  BenchsideError,
  CompressionApplyParams,
  CompressionBaselineParams,
  CompressionProfileParams,
  CompressionSearchParams,
  compressionEpisodesCsv,
  Policy,
  type CompressionEpisode,
} from '../contract/index.ts'
import { checked, withDefault, type OpenApi } from './api.ts'
import { followJob, jobResult } from './jobs.ts'
import { printJson, printTable } from './output.ts'

const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)
const ms = (s: number | null) => (s === null ? '-' : (s * 1e3).toFixed(3))

function readPolicy(file: string): Policy {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: 'policy', message: `Cannot read the policy file ${file}: ${(error as Error).message}.` })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: 'policy', message: `${file} is not JSON; a policy file looks like docs/compression.md shows.` })
  }
  return checked(Policy, json, 'policy')
}

function printEpisodes(episodes: CompressionEpisode[]): void {
  printTable(
    ['episode', 'source', 'accuracy', 'latency ms', 'predicted ms', 'ratio', 'reward', 'policy (keep/w/a)'],
    episodes.map((e) => [
      e.episode,
      e.source,
      percent(e.accuracy),
      ms(e.latencyS),
      ms(e.predictedLatencyS),
      e.latencyRatio.toFixed(3),
      e.reward === null ? null : e.reward.toFixed(3),
      e.policy.map((l) => `${l.keep.toFixed(2)}/${l.weightBits}/${l.activationBits}`).join(' '),
    ]),
  )
}

export function registerCompressionCommands(program: Command, openApi: OpenApi): void {
  const compress = program.command('compress').description('pruning + quantization policies: searched on measured latency, baselines, applied to a model')
  const s = CompressionSearchParams.shape
  const settings = (command: Command) =>
    command
      .option('--board <id>', withDefault('board the latency is measured on', s.board))
      .option('--target <ratio>', withDefault('target latency as a fraction of the uncompressed model', s.target), Number)
      .option('--retrain-epochs <n>', withDefault('retraining epochs per episode', s.retrainEpochs), Number)
      .option('--retrain-samples <n>', withDefault('training samples per retraining epoch', s.retrainSamples), Number)
      .option('--validation-samples <n>', withDefault('validation samples an episode is scored on', s.validationSamples), Number)
      .option('--latency <source>', withDefault('measured (on the board) or predicted (cost model)', s.latency))
      .option('--channel-multiple <n>', withDefault('round kept channels to multiples of n', s.channelMultiple), Number)
      .option('--seed <n>', withDefault('seed', s.seed), Number)
      .option('--name <name>', 'a name for the run')
      .option('--json', 'print the result as JSON')
  const common = (model: string, o: Record<string, unknown>) => ({
    modelUuid: model,
    board: o.board,
    target: o.target,
    retrainEpochs: o.retrainEpochs,
    retrainSamples: o.retrainSamples,
    validationSamples: o.validationSamples,
    latency: o.latency,
    channelMultiple: o.channelMultiple,
    seed: o.seed,
  })

  settings(compress.command('search <model>').description('search per-layer policies with a DDPG agent rewarded on measured latency (a job)'))
    .option('--agent <kind>', withDefault('joint (keep + bits), prune or quant', s.agent))
    .option('--reward <kind>', withDefault('r6, target-power, log-cost or amc', s.reward))
    .option('--episodes <n>', withDefault('episodes', s.episodes), Number)
    .option('--warmup <n>', withDefault('random warm-up episodes', s.warmupEpisodes), Number)
    .option('--max-bits <n>', withDefault('widest mixed-precision width', s.maxBits), Number)
    .option('--final-epochs <n>', withDefault('retraining epochs of the final pick', s.finalEpochs), Number)
    .action(async (model: string, o) => {
      const params = checked(
        CompressionSearchParams,
        {
          ...common(model, o),
          agent: o.agent,
          reward: o.reward,
          episodes: o.episodes,
          warmupEpisodes: o.warmup,
          maxBits: o.maxBits,
          finalEpochs: o.finalEpochs,
        },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({
        kind: 'compression-search',
        name: o.name ?? `compression search of ${model.slice(0, 8)} · ${params.agent} · ×${params.target}`,
        params,
      })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'compression-search')
      if (o.json) return printJson(result)
      const pick = result.pick
      console.log(
        `Search ${done.uuid.slice(0, 8)}: ${result.episodes.length} episodes; reference ${percent(result.reference.accuracy)} at ${ms(result.reference.latencyS)} ms`,
      )
      if (result.costModelError)
        console.log(
          `Cost model error: median ${percent(result.costModelError.median)}, worst ${percent(result.costModelError.worst)} (${result.costModelError.count} policies)`,
        )
      console.log(
        pick
          ? `Final pick (episode ${pick.episode}): test accuracy ${percent(pick.testAccuracy)} (reference ${percent(pick.referenceTestAccuracy)}) at latency ×${pick.latencyRatio.toFixed(3)}`
          : `No episode came within ±0.05 of the target ×${params.target}; no final pick.`,
      )
    })

  settings(compress.command('baseline <model>').description('uniform, random or sensitivity-greedy policies near the target, scored like episodes (a job)'))
    .requiredOption('--kind <kind>', 'uniform, random or greedy')
    .option('--policies <n>', withDefault('policies to score', CompressionBaselineParams.shape.policies), Number)
    .action(async (model: string, o) => {
      const params = checked(CompressionBaselineParams, { ...common(model, o), kind: o.kind, policies: o.policies }, 'params')
      const api = await openApi()
      const run = await api.startJob({
        kind: 'compression-baseline',
        name: o.name ?? `${params.kind} baseline of ${model.slice(0, 8)} · ×${params.target}`,
        params,
      })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'compression-baseline')
      if (o.json) return printJson(result)
      printEpisodes(result.episodes)
    })

  const a = CompressionApplyParams.shape
  compress
    .command('apply <model>')
    .description('apply a policy file, retrain and test; the run becomes the compressed model (a job)')
    .requiredOption('--policy <file.json>', 'the policy (docs/compression.md)')
    .option('--epochs <n>', withDefault('retraining epochs', a.epochs), Number)
    .option('--board <id>', 'also measure the latency on this board')
    .option('--channel-multiple <n>', withDefault('round kept channels to multiples of n', a.channelMultiple), Number)
    .option('--seed <n>', withDefault('seed', a.seed), Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o) => {
      const policy = readPolicy(String(o.policy))
      const params = checked(
        CompressionApplyParams,
        { modelUuid: model, policy, epochs: o.epochs, board: o.board, channelMultiple: o.channelMultiple, seed: o.seed },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({ kind: 'compression-apply', name: o.name ?? `${policy.architecture} compressed from ${model.slice(0, 8)}`, params })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'compression-apply')
      if (o.json) return printJson(result)
      console.log(
        `Model ${done.uuid.slice(0, 8)}: test accuracy ${percent(result.testAccuracy)} (reference ${percent(result.referenceTestAccuracy)}), ` +
          `${result.params} parameters (reference ${result.referenceParams})` +
          (result.latencyS === null ? '' : `, latency ${ms(result.latencyS)} ms (reference ${ms(result.referenceLatencyS)} ms)`),
      )
    })

  compress
    .command('profile <model>')
    .description("time the model's uniform keep × bits grid on a board: the cost model that predicts a policy's latency (a job)")
    .option('--board <id>', withDefault('board', CompressionProfileParams.shape.board))
    .option('--force', 're-measure points the latency table already holds')
    .action(async (model: string, o) => {
      const params = checked(CompressionProfileParams, { modelUuid: model, board: o.board, force: o.force }, 'params')
      const api = await openApi()
      const done = await followJob(api, await api.startJob({ kind: 'compression-profile', params }), false)
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'compression-profile')
      console.log(
        `${result.points} grid points on '${result.board}': ${result.measured} measured now, ${result.points - result.measured} from the latency table.`,
      )
    })

  compress
    .command('show <run>')
    .description('episodes of a search or baseline run, or what an apply run made')
    .option('--json', 'print the result as JSON')
    .option('--csv [file]', 'episodes as CSV (to a file, or standard output)')
    .action(async (runId: string, o) => {
      const api = await openApi()
      const answer = await api.getRunResult({ run: runId })
      if (answer.kind !== 'compression-search' && answer.kind !== 'compression-baseline' && answer.kind !== 'compression-apply') {
        throw new BenchsideError({
          code: 'INVALID_ARGS',
          field: 'run',
          message: `Run ${runId} is a ${answer.kind} run, not a compression search, baseline or apply run.`,
        })
      }
      const result = answer.result
      if (result === null) throw new BenchsideError({ code: 'NOT_FOUND', message: `Run ${runId} has reported no result yet.` })
      if (o.json || !('episodes' in result)) return printJson(result)
      if (o.csv !== undefined) {
        const csv = compressionEpisodesCsv(result)
        return typeof o.csv === 'string' ? writeFileSync(o.csv, csv) : void process.stdout.write(csv)
      }
      printEpisodes(result.episodes)
    })
}

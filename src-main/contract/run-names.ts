// A run's default name: the model's name (or the architecture and dataset) and the settings that differ from the
// defaults, so two sweeps of one model never share a name. Pure TS: the jobs service names runs started without a
// name (UI, CLI, scripts) with it, and forms may show it as the placeholder.
import type { JobSpec } from './jobs.ts'
import { SweepParams } from './robustness.ts'

const sweepDefaults = SweepParams.parse({ model: 'x' })

/** σ as the views write it: 0.1, 2, 1e-3, 3e+4. */
export function sigmaText(sigma: number): string {
  if (sigma === 0) return '0'
  const magnitude = Math.abs(sigma)
  return magnitude >= 1e-2 && magnitude < 1e4 ? String(Number(sigma.toPrecision(3))) : sigma.toExponential(1).replace('.0e', 'e')
}

function plural(count: number, one: string): string {
  return `${count.toLocaleString('en-US')} ${one}${count === 1 ? '' : 's'}`
}

/** What training recipe a train job follows, in a few words: "noisy σ=0.1 ramp 2 ep", "QAT w4/a4", "analog ordered". */
export function trainRecipe(params: Extract<JobSpec, { kind: 'train' }>['params']): string[] {
  const parts: string[] = []
  const noise = params.noise
  if (noise) {
    const schedule =
      noise.rampEpochs > 0 ? ` ramped over ${plural(noise.rampEpochs, 'epoch')}` : noise.theta > 0 ? ` + ${sigmaText(noise.theta)}·|N| per sample` : ''
    const points = noise.points === 'global' ? '' : ` at ${noise.points.length === 1 ? noise.points[0] : plural(noise.points.length, 'point')}`
    parts.push(`noisy σ=${sigmaText(noise.sigma)}${schedule}${points}${noise.model.kind === 'additive' ? '' : ` ${noise.model.kind}`}`)
  }
  if (params.qat) parts.push(`QAT w${params.qat.weightBits}${params.qat.activationBits ? `/a${params.qat.activationBits}` : ' (float activations)'}`)
  if (params.analog) parts.push(`analog ${params.analog.integration}${params.analog.device ? ` on ${params.analog.device}` : ''}`)
  return parts
}

/**
 * The default name of a run of `spec`. `modelName` answers a model id's name (null when unknown: the id's first 8
 * characters are used).
 */
export function defaultRunName(spec: JobSpec, modelName: (id: string) => string | null): string {
  const model = (id: string) => modelName(id) ?? id.slice(0, 8)
  const name = (parts: (string | null | undefined | false)[]) => parts.filter((p): p is string => typeof p === 'string' && p !== '').join(' · ')
  switch (spec.kind) {
    case 'train': {
      const p = spec.params
      const recipe = trainRecipe(p)
      return name([`${p.architecture} on ${p.dataset}`, recipe.length ? recipe.join(', ') : 'clean', plural(p.epochs, 'epoch')])
    }
    case 'sweep': {
      const p = spec.params
      const scope = p.scope.kind === 'set' ? `set ${p.scope.name}` : p.scope.kind
      const noise = p.noise.kind === 'combined' ? `combined ${p.noise.ratio}` : p.noise.kind
      const grid = p.strategy === 'grid' ? `grid ${sigmaText(p.grid.from)}…${sigmaText(p.grid.to)} ×${p.grid.count}` : 'adaptive'
      return name([
        model(p.model),
        `${grid} sweep`,
        scope,
        noise,
        p.noise.normalize !== 'none' && `σ/${p.noise.normalize === 'sqrt' ? '√N' : 'N'}`,
        p.limit !== undefined ? plural(p.limit, 'sample') : 'all samples',
        p.repeats !== sweepDefaults.repeats && plural(p.repeats, 'repeat'),
        p.dataset && `on ${p.dataset}`,
      ])
    }
    case 'evaluate':
      return name([`evaluate ${model(spec.params.model)}`, spec.params.dataset && `on ${spec.params.dataset}`, `${spec.params.split} split`])
    case 'hil-evaluate':
    case 'hil-finetune':
      return name([
        `${spec.kind === 'hil-evaluate' ? 'HIL evaluate' : 'HIL fine-tune'} ${model(spec.params.model)}`,
        `board ${spec.params.board}`,
        plural(spec.params.limit, 'sample'),
      ])
    case 'layer-latency':
      return `layer latency of ${model(spec.params.model)} on ${spec.params.board}`
    default: {
      const params = spec.params as Record<string, unknown>
      const id = typeof params['model'] === 'string' ? params['model'] : typeof params['modelUuid'] === 'string' ? params['modelUuid'] : null
      return id ? `${spec.kind} of ${model(id)}` : `${spec.kind} ${new Date().toLocaleString('sv-SE').slice(0, 16)}`
    }
  }
}

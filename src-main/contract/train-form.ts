// The training form's view of TrainParams: the defaults of every optional group (QAT, noisy training, analog), the
// bounds of its number fields, and the schema's own checks as plain sentences, so the form offers what the train job
// takes with the same validation as the CLI. Pure TS, shared by the renderer and tests.
import { z } from 'zod'
import { TrainParams } from './models.ts'

const qatSchema = TrainParams.shape.qat.unwrap()
const noiseSchema = TrainParams.shape.noise.unwrap()
const analogSchema = TrainParams.shape.analog.unwrap()

export type TrainQat = z.output<typeof qatSchema>
export type TrainNoise = z.output<typeof noiseSchema>
export type TrainAnalog = z.output<typeof analogSchema>

/** How σ changes while training: fixed, ramped up from 0 over the first epochs, or drawn per sample (σ + θ·|N(0,1)|). */
export type NoiseSchedule = 'constant' | 'ramp' | 'per-sample'

/** The schema's defaults for each optional group; σ has none (it is the one thing a noisy training must say). */
export function trainGroupDefaults(): { qat: TrainQat; noise: Omit<TrainNoise, 'sigma'>; analog: TrainAnalog } {
  return {
    qat: qatSchema.parse({}),
    noise: noiseSchema.omit({ sigma: true }).parse({}),
    analog: analogSchema.parse({}),
  }
}

/** min and max of a number field of the schema (for the inputs' attributes), looked up by its path. */
export function numberBounds(path: string): { min?: number; max?: number; integer: boolean } {
  let schema: z.ZodType = TrainParams
  for (const key of path.split('.')) {
    schema = unwrapped(schema)
    if (!(schema instanceof z.ZodObject)) return { integer: false }
    schema = (schema.shape as Record<string, z.ZodType>)[key] ?? z.never()
  }
  const number = unwrapped(schema)
  if (!(number instanceof z.ZodNumber)) return { integer: false }
  const min = number.minValue
  const max = number.maxValue
  return {
    ...(min !== null && Number.isFinite(min) ? { min } : {}),
    ...(max !== null && Number.isFinite(max) ? { max } : {}),
    integer: number.isInt,
  }
}

function unwrapped(schema: z.ZodType): z.ZodType {
  let s = schema
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType
  return s
}

/** Field labels for messages, by path (what the form calls them). */
export const TRAIN_FIELD_LABELS: Record<string, string> = {
  dataset: 'Dataset',
  architecture: 'Architecture',
  epochs: 'Epochs',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
  seed: 'Seed',
  validationFraction: 'Validation share',
  patience: 'Patience',
  logEverySteps: 'Log every (steps)',
  'qat.weightBits': 'Weight bits',
  'qat.activationBits': 'Activation bits',
  'qat.scale': 'QAT scale',
  'noise.sigma': 'Noise σ',
  'noise.theta': 'Per-sample θ',
  'noise.rampEpochs': 'Ramp epochs',
  'noise.points': 'Noise points',
  'noise.model.ratio': 'Noise ratio',
  'analog.fill': 'Analog fill',
  'analog.layers': 'Analog layers',
  'analog.device': 'Analog device',
}

/** One plain sentence per problem, keyed by the field's path ('' for the whole form). */
export function trainFormIssues(params: unknown): { path: string; message: string }[] {
  const checked = TrainParams.safeParse(params)
  if (checked.success) return []
  return checked.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.')
    const label = TRAIN_FIELD_LABELS[path] ?? path
    return { path, message: `${label} ${plainReason(issue)}.` }
  })
}

function plainReason(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'array' ? 'needs at least one entry' : `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : issue.expected === 'number' ? 'needs a number' : `must be a ${issue.expected}`
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`
    default:
      return issue.message.replace(/\.$/, '').toLowerCase()
  }
}

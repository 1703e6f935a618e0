// Which room shows a run, and opening it there with the run selected: a sweep in Robustness, a study in Quantization,
// a HIL run in Analog, a model in Models & Data, and so on. Used by the run detail's links.
import type { RunSummary } from '../../../src-main/contract/index.ts'
import { route } from '../../lib/route.svelte.ts'
import type { RoomId } from '../../rooms.ts'

export interface RunRoom {
  room: RoomId
  label: string
  /** Selects the run (or its model) in that room's state and goes there. */
  open: () => Promise<void>
}

// The rooms' state modules load with their rooms (lazily), so they are imported only when a link is followed.
const state = {
  models: () => import('../../state/models.svelte.ts').then((m) => m.models),
  robustness: () => import('../../state/robustness.svelte.ts').then((m) => m.robustness),
  quantization: () => import('../../state/quantization.svelte.ts').then((m) => m.quantization),
  hil: () => import('../../state/analog.svelte.ts').then((m) => m.hil),
  compression: () => import('../../state/compression.svelte.ts').then((m) => m.compression),
}

const MODEL_KINDS = ['train', 'model-import', 'compression-apply']

/** The room that shows `run` (null for kinds no room shows, like selftest). `params` are the run's params. */
export function roomOf(run: Pick<RunSummary, 'uuid' | 'kind'>, params: Record<string, string>): RunRoom | null {
  const go = (room: RoomId, select: () => Promise<unknown>) => async () => {
    await select()
    route.navigate([room])
  }
  const nothing = () => Promise.resolve()
  const uuid = run.uuid
  if (MODEL_KINDS.includes(run.kind))
    return { room: 'models', label: 'Models & Data', open: go('models', async () => void (await state.models()).openModel(uuid)) }
  switch (run.kind) {
    case 'evaluate':
      return params.model
        ? { room: 'models', label: 'Models & Data', open: go('models', async () => void (await state.models()).openModel(params.model!)) }
        : null
    case 'dataset-import':
      return { room: 'models', label: 'Models & Data', open: go('models', async () => ((await state.models()).tab = 'datasets')) }
    case 'sweep':
      return { room: 'robustness', label: 'Robustness', open: go('robustness', async () => (await state.robustness()).only(uuid)) }
    case 'robustness-study':
      return { room: 'quantization', label: 'Quantization', open: go('quantization', async () => (await state.quantization()).select(uuid)) }
    case 'hil-evaluate':
    case 'hil-finetune':
      return { room: 'analog', label: 'Analog & HIL', open: go('analog', async () => (await state.hil()).select(uuid)) }
    case 'analog-calibrate':
      return { room: 'devices', label: 'Devices', open: go('devices', nothing) }
    case 'roofline':
    case 'layer-latency':
      return { room: 'operators', label: 'Operators', open: go('operators', nothing) }
    case 'compression-search':
    case 'compression-baseline':
    case 'compression-profile':
      return { room: 'compression', label: 'Compression search', open: go('compression', async () => (await state.compression()).select(uuid)) }
    case 'ensemble-train':
    case 'uncertainty-evaluate':
    case 'active-learning':
      return { room: 'uncertainty', label: 'Uncertainty', open: go('uncertainty', nothing) }
    default:
      return null
  }
}

/** The params that name another run: the model a run used, what a model was compressed from. */
export const RUN_LINK_PARAMS = ['model', 'modelUuid', 'compressed_from', 'ensemble'] as const

/** Params that hold a run uuid (or a prefix the store resolves); shown as links to that run. */
export function isRunLink(key: string, value: string): boolean {
  return (RUN_LINK_PARAMS as readonly string[]).includes(key) && /^[0-9a-f-]{8,36}$/.test(value)
}

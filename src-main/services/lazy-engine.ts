// The engine modules the services use that import tfjs (seconds at start-up on a slow machine): loaded on first use,
// so a host that never touches a dataset or a model (`benchside runs list`, `--help`) starts without tfjs.
import type { JobKind } from '../contract/index.ts'

export interface EngineModules {
  datasets: typeof import('../engine/data/dataset.ts')
  registry: typeof import('../engine/data/registry.ts')
  modelFiles: typeof import('../engine/model-files.ts')
  network: typeof import('../engine/network.ts')
}

let loaded: EngineModules | null = null

/** Loads the engine modules once; every handler that reaches the catalogs awaits this first. */
export async function loadEngine(): Promise<EngineModules> {
  if (loaded) return loaded
  const [datasets, registry, modelFiles, network] = await Promise.all([
    import('../engine/data/dataset.ts'),
    import('../engine/data/registry.ts'),
    import('../engine/model-files.ts'),
    import('../engine/network.ts'),
  ])
  return (loaded = { datasets, registry, modelFiles, network })
}

/** The loaded modules, for the synchronous paths (catalog look-ups, the job manager's input resolution). */
export function engine(): EngineModules {
  if (!loaded) throw new Error('The engine modules are not loaded yet: await loadEngine() in the handler before using the dataset or model catalog.')
  return loaded
}

/** Job kinds whose inputs are resolved without datasets or model files, so starting them does not load tfjs. */
const NO_ENGINE_INPUTS: ReadonlySet<JobKind> = new Set(['selftest', 'roofline', 'analog-calibrate', 'dataset-import'])

/** The job manager resolves inputs synchronously; this loads what that needs before a job of this kind starts. */
export async function loadEngineForJob(kind: JobKind | null): Promise<void> {
  if (kind === null || !NO_ENGINE_INPUTS.has(kind)) await loadEngine()
}

// All service handlers, assembled; the type checker insists every contract method has one.
import type { AppInfo } from '../contract/index.ts'
import type { JobManager } from '../jobs/manager.ts'
import type { Store } from '../store/store.ts'
import { appHandlers } from './app.ts'
import type { Handlers } from './handlers.ts'
import { historyHandlers } from './history.ts'
import { jobHandlers } from './jobs.ts'
import { type DatasetCatalog, datasetHandlers } from './datasets.ts'
import { type ModelCatalog, modelHandlers } from './models.ts'
import { boardHandlers } from './boards.ts'
import { robustnessHandlers } from './robustness.ts'
import { quantizationHandlers } from './quantization.ts'
import { analogHandlers } from './analog.ts'
import { resultHandlers } from './results.ts'
import { compareHandlers } from './compare.ts'
import { compressionHandlers } from './compression.ts'
import { clusterHandlers, type ClusterService } from './clusters.ts'
import type { AnalogDeviceRegistry } from '../hardware/analog-devices.ts'
import type { BoardPool } from '../hardware/board-pool.ts'
import type { BoardAccess } from '../jobs/board-access.ts'

export interface ServiceDeps {
  host: AppInfo['host']
  store: Store
  jobs: JobManager
  datasets: DatasetCatalog
  models: ModelCatalog
  boards: BoardPool
  boardAccess: BoardAccess
  analog: AnalogDeviceRegistry
  clusters: ClusterService
  /** This process wrote to the store; the change feed tells every host. */
  changed: () => void
}

export function createHandlers(deps: ServiceDeps): Handlers {
  return {
    ...appHandlers(deps.host, deps.store.dataDir),
    ...historyHandlers(deps.store, deps.changed),
    ...jobHandlers(deps.store, deps.jobs, deps.clusters),
    ...datasetHandlers(deps.store, deps.datasets, deps.jobs),
    ...modelHandlers(deps.store, deps.datasets, deps.models, deps.jobs, deps.changed),
    ...boardHandlers(deps.store, deps.boards, deps.boardAccess, deps.models),
    ...robustnessHandlers(deps.store, deps.models),
    ...quantizationHandlers(deps.store),
    ...analogHandlers(deps.store, deps.analog),
    ...resultHandlers(deps.store),
    ...compareHandlers(deps.store),
    ...compressionHandlers(deps.store, deps.models, deps.boardAccess),
    ...clusterHandlers(deps.store, deps.clusters),
  }
}

export { DatasetCatalog } from './datasets.ts'
export { ModelCatalog, prepareJobInputs } from './models.ts'
export { createBoardPool } from './boards.ts'
export { ClusterService } from './clusters.ts'

export type { Handlers } from './handlers.ts'

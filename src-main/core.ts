// The Benchside core every host builds on: store, job manager, services and router, wired once.
import { availableParallelism, hostname } from 'node:os'
import { createClient, type AppInfo, type BenchsideApi } from './contract/index.ts'
import { EventHub } from './event-hub.ts'
import { JobManager } from './jobs/manager.ts'
import type { JobLauncher } from './jobs/protocol.ts'
import { Router } from './router.ts'
import { BoardAccess } from './jobs/board-access.ts'
import { inlineJobProcess } from './jobs/inline-launcher.ts'
import { createBoardPool, createHandlers, DatasetCatalog, ModelCatalog, prepareJobInputs } from './services/index.ts'
import { Store } from './store/store.ts'

export interface CoreOptions {
  dataDir: string
  host: AppInfo['host']
  launch: JobLauncher
  nativeBinding?: string
  concurrency?: number
}

export interface Core {
  store: Store
  jobs: JobManager
  events: EventHub
  router: Router
  /** The typed API in-process, as the CLI and tests use it. */
  api: BenchsideApi
  close(): void
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function createCore(options: CoreOptions): Core {
  const store = new Store({ dataDir: options.dataDir, nativeBinding: options.nativeBinding })
  store.runs.interruptOrphans(hostname(), isProcessAlive)
  const events = new EventHub()
  const runsChanged = (runUuids: string[]) => events.emit('runsChanged', { runUuids })
  const datasets = new DatasetCatalog(store)
  const models = new ModelCatalog(store)
  const boards = createBoardPool(store)
  const boardAccess = new BoardAccess(boards, store.boards, isProcessAlive)
  const jobs = new JobManager({
    store,
    launch: options.launch,
    concurrency: options.concurrency ?? availableParallelism(),
    onProgress: (progress) => events.emit('jobProgress', progress),
    onRunsChanged: runsChanged,
    prepareInputs: (spec) => prepareJobInputs(spec, datasets, models),
    launchInline: () => inlineJobProcess({ boards: boardAccess, latency: store.latency }),
  })
  const router = new Router(createHandlers({ host: options.host, store, jobs, datasets, models, boards, boardAccess, runsChanged }))
  const api = createClient({
    call: (method, args) => router.handle(method, args).then((reply) => ({ id: 0, ...reply })),
    subscribe: (listener) => events.on(listener),
  })
  return {
    store,
    jobs,
    events,
    router,
    api,
    close() {
      jobs.shutdown()
      void Promise.all(boards.ids().map((id) => boards.get(id).close())).catch(() => {})
      store.close()
    },
  }
}

// The Benchside core every host builds on: store, job manager, services and router, wired once.
import { availableParallelism, hostname } from 'node:os'
import { createClient, type AppInfo, type BenchsideApi } from './contract/index.ts'
import { ChangeFeed } from './change-feed.ts'
import { EventHub } from './event-hub.ts'
import { JobManager } from './jobs/manager.ts'
import type { JobLauncher, JobProcess } from './jobs/protocol.ts'
import { Router } from './router.ts'
import { BoardAccess } from './jobs/board-access.ts'
import { inlineJobProcess } from './jobs/inline-launcher.ts'
import { serveBoards, type BoardServerDeps } from './jobs/board-server.ts'
import { serveLatency } from './jobs/latency-server.ts'
import { ClusterService, createBoardPool, createHandlers, DatasetCatalog, ModelCatalog, prepareJobInputs } from './services/index.ts'
import { Store } from './store/store.ts'
import { AnalogDeviceRegistry } from './hardware/analog-devices.ts'
import { latestCalibration } from './services/analog.ts'
import { importHooks, sweepStaleImports } from './services/dataset-imports.ts'

export interface CoreOptions {
  dataDir: string
  host: AppInfo['host']
  launch: JobLauncher
  nativeBinding?: string
  concurrency?: number
  /** How long a store write waits for another process's lock (the store's default when omitted). */
  busyTimeoutMs?: number
}

export interface Core {
  store: Store
  jobs: JobManager
  events: EventHub
  /** Turns store changes (from any process) into runUpdated / runsChanged events. */
  feed: ChangeFeed
  router: Router
  /** Connected analog boards (and the demo board's emulator). */
  analog: AnalogDeviceRegistry
  /** The typed API in-process, as the CLI and tests use it. */
  api: BenchsideApi
  close(): void
}

/** How often a long-lived host looks for cluster jobs whose host died. */
const ADOPT_INTERVAL_MS = 10_000

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function createCore(options: CoreOptions): Core {
  const store = new Store({ dataDir: options.dataDir, nativeBinding: options.nativeBinding, busyTimeoutMs: options.busyTimeoutMs })
  const clusters = new ClusterService(store)
  // Jobs on a cluster outlive the host that started them: taken over here, they are not interrupted but re-attached.
  const adopted = clusters.adoptOrphans(isProcessAlive)
  store.runs.interruptOrphans(hostname(), isProcessAlive)
  sweepStaleImports(store)
  const events = new EventHub()
  const feed = new ChangeFeed(store, events)
  const changed = () => feed.poke()
  const datasets = new DatasetCatalog(store)
  const models = new ModelCatalog(store)
  const boards = createBoardPool(store)
  const boardAccess = new BoardAccess(boards, store.boards, isProcessAlive)
  const analog = new AnalogDeviceRegistry((port) => events.emit('analogBoardsChanged', { port }))
  // Analog-board jobs reach their board through board sessions answered here, whichever way their process started.
  const analogSessions: BoardServerDeps = {
    registry: analog,
    latestCalibration: (deviceId) => latestCalibration(store, deviceId),
    saveCalibration: (deviceId, runUuid, model, quality) => store.analogDevices.addCalibration(deviceId, runUuid, model, quality),
    seen: (info, port) => store.analogDevices.seen(info.deviceId, info.firmware, info, port),
  }
  const agentLatency = { boards: boardAccess, latency: store.latency }
  // Every job process may ask for network latency (compression) and for analog-board sessions (HIL), both answered here.
  const serve = (child: JobProcess) => serveLatency(serveBoards(child, analogSessions), agentLatency)
  const jobs = new JobManager({
    store,
    launch: () => serve(options.launch()),
    concurrency: options.concurrency ?? availableParallelism(),
    onProgress: (progress) => events.emit('jobProgress', progress),
    onStoreChanged: changed,
    prepareInputs: (spec) =>
      prepareJobInputs(
        spec,
        datasets,
        models,
        (deviceId) => latestCalibration(store, deviceId),
        (id) => void boardAccess.get(id),
      ),
    launchInline: () => serve(inlineJobProcess(agentLatency)),
    launchOnCluster: (runUuid, reattach) => clusters.launch(runUuid, reattach),
    ...importHooks(store),
  })
  // Another host sharing the data folder asked to cancel one of this process's jobs (issue 13, item 7).
  feed.onCancelRequest((run) => {
    if (!jobs.list().some((job) => job.runUuid === run)) return false
    jobs.cancel(run)
    return true
  })
  for (const runUuid of adopted) jobs.reattach(runUuid)
  // A host that stops while this one runs (a CLI killed mid-job) leaves its cluster jobs to whoever is still here.
  const adoption = setInterval(() => {
    try {
      for (const runUuid of clusters.adoptOrphans(isProcessAlive)) jobs.reattach(runUuid)
    } catch {
      // A busy store is asked again at the next tick.
    }
  }, ADOPT_INTERVAL_MS)
  adoption.unref()
  const router = new Router(createHandlers({ host: options.host, store, jobs, datasets, models, boards, boardAccess, analog, clusters, changed }))
  const api = createClient({
    call: (method, args) => router.handle(method, args).then((reply) => ({ id: 0, ...reply })),
    subscribe: (listener) => events.on(({ event, payload }) => listener(event, payload)),
  })
  return {
    store,
    jobs,
    events,
    feed,
    router,
    analog,
    api,
    close() {
      clearInterval(adoption)
      jobs.shutdown()
      feed.check()
      feed.close()
      void Promise.all(boards.ids().map((id) => boards.get(id).close())).catch(() => {})
      // Stops the demo board's emulator too: no process outlives the app.
      void analog.closeAll()
      store.close()
    },
  }
}

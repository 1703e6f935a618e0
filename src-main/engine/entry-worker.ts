// A worker thread that runs one of the build's entries (electron.vite.config.ts), from the build or from source.
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/**
 * `entry.built` (a .js entry beside the bundle) when the caller runs from the build, else `entry.source` through tsx
 * (tests, the CLI in development). Loader hooks do not carry over into worker threads, so the thread registers tsx
 * before it imports the source.
 */
export function startEntryWorker(callerUrl: string, entry: { built: string; source: string }, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(entry.built, { workerData })
  const tsx = import.meta.resolve('tsx/esm/api')
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(entry.source).href)}) })`
  return new Worker(bootstrap, { eval: true, workerData })
}

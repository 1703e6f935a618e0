// Entry of a job process: receives one 'start', runs that job function, streams results to the parent, exits.
// Runs under child_process.fork (Node) or Electron's utilityProcess (parentPort); both are handled here.
import '../warnings.ts'
import { constants, setPriority } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BoardClient } from './board-client.ts'
import { createJobContext, type JobFunction } from './context.ts'
import { jobKinds } from './kinds/index.ts'
import { LatencyClient } from './latency-rpc.ts'
import type { FromJob, StartJob, ToJob } from './protocol.ts'

interface ParentPort {
  postMessage(message: unknown): void
  on(event: 'message', listener: (event: { data: unknown }) => void): void
}
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort

function send(message: FromJob): void {
  if (parentPort) parentPort.postMessage(message)
  else process.send?.(message)
}

function onMessage(listener: (message: ToJob) => void): void {
  if (parentPort) parentPort.on('message', (event) => listener(event.data as ToJob))
  else process.on('message', (message) => listener(message as ToJob))
}

// Helpers that start threads (sweep workers) find their entry files next to this one.
process.env.BENCHSIDE_JOB_DIR = dirname(fileURLToPath(import.meta.url))

// Jobs compute below the main process's priority, so the window and the board links it serves stay responsive when
// the cores are busy. Threads started later (sweep workers) inherit it. Not permitted somewhere: run at normal priority.
try {
  setPriority(constants.priority.PRIORITY_BELOW_NORMAL)
} catch {
  /* normal priority */
}

// An orphaned job must not keep computing: when the parent goes, so do we.
process.on('disconnect', () => process.exit(1))

const abort = new AbortController()
process.on('SIGTERM', () => {
  abort.abort(new Error('cancelled'))
  setTimeout(() => process.exit(143), 200).unref()
})

const boards = new BoardClient(send)
const latency = new LatencyClient(send)

async function run(start: StartJob): Promise<void> {
  const jobFunction = (await jobKinds[start.spec.kind].load()).default as JobFunction
  await jobFunction(createJobContext(start, send, abort.signal, boards, latency), null)
}

onMessage((message) => {
  if (boards.receive(message) || latency.receive(message) || message.type !== 'start') return
  run(message).then(
    () => {
      send({ type: 'done' })
      setTimeout(() => process.exit(0), 50)
    },
    (error: unknown) => {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
      setTimeout(() => process.exit(1), 50)
    },
  )
})

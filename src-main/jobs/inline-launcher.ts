// Runs a job inside this process, for work that waits on a board rather than computes (the board lock lives here).
// It looks like a job process to the manager: same messages, same cancel, an 'exit' when it ends.
import { BoardClient } from './board-client.ts'
import type { InlineServices, JobFunction } from './context.ts'
import { createJobContext } from './context.ts'
import { jobKinds } from './kinds/index.ts'
import { LatencyClient } from './latency-rpc.ts'
import type { FromJob, JobProcess, ToJob } from './protocol.ts'

export function inlineJobProcess(services: InlineServices): JobProcess {
  const abort = new AbortController()
  const messageListeners: ((message: FromJob) => void)[] = []
  const exitListeners: ((code: number | null, signal: string | null) => void)[] = []
  // Delivered on a later turn, in order, as a process channel would.
  const send = (message: FromJob) => setImmediate(() => messageListeners.forEach((l) => l(message)))
  const exit = (code: number, signal: string | null) => setImmediate(() => setImmediate(() => exitListeners.forEach((l) => l(code, signal))))
  const boards = new BoardClient(send)
  const latency = new LatencyClient(send)

  return {
    pid: undefined,
    send(message: ToJob) {
      if (boards.receive(message) || latency.receive(message) || message.type !== 'start') return
      void (async () => {
        try {
          const jobFunction = (await jobKinds[message.spec.kind].load()).default as JobFunction
          await jobFunction(createJobContext(message, send, abort.signal, boards, latency), services)
          send({ type: 'done' })
          exit(0, null)
        } catch (error) {
          send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
          exit(1, abort.signal.aborted ? 'SIGTERM' : null)
        }
      })()
    },
    onMessage: (listener) => void messageListeners.push(listener),
    onExit: (listener) => void exitListeners.push(listener),
    kill: () => abort.abort(new Error('cancelled')),
  }
}

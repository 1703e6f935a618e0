// Starts job processes with child_process.fork, for the CLI, web mode and tests (Electron uses utilityProcess instead).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FromJob, JobLauncher, JobProcess } from './protocol.ts'

/** The job host next to this file: job-host.ts under tsx/vitest, job-host.js in a build. */
function jobHostEntry(): { file: string; execArgv: string[] } {
  const isTypeScript = import.meta.url.endsWith('.ts')
  const file = fileURLToPath(new URL(isTypeScript ? './job-host.ts' : './job-host.js', import.meta.url))
  return { file, execArgv: isTypeScript ? ['--import', import.meta.resolve('tsx')] : [] }
}

// Resolved once: under tsx, import.meta.resolve is a synchronous round trip to the loader thread, paid per launch.
let entry: { file: string; execArgv: string[] } | null = null

export const nodeJobLauncher: JobLauncher = (): JobProcess => {
  const { file, execArgv } = (entry ??= jobHostEntry())
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  return {
    get pid() {
      return child.pid
    },
    // A process that just died cannot take a message (a late board reply); its 'exit' reports the death, so the send
    // error is dropped instead of becoming an unhandled 'error' event that would end this process.
    send: (message) => void child.send(message, () => {}),
    onMessage: (listener) => void child.on('message', (message) => listener(message as FromJob)),
    onExit: (listener) => void child.on('exit', (code, signal) => listener(code, signal)),
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  }
}

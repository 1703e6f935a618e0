// Starts job processes as Electron utility processes (Node inside Electron, off the main event loop).
import { utilityProcess } from 'electron'
import type { FromJob, JobLauncher, JobProcess } from '../jobs/protocol.ts'

export function utilityJobLauncher(jobHostPath: string, env: NodeJS.ProcessEnv): JobLauncher {
  return (): JobProcess => {
    const child = utilityProcess.fork(jobHostPath, [], { serviceName: 'Benchside job', stdio: 'inherit', env })
    return {
      get pid() {
        return child.pid
      },
      send: (message) => child.postMessage(message),
      onMessage: (listener) => void child.on('message', (message: unknown) => listener(message as FromJob)),
      onExit: (listener) => void child.on('exit', (code: number) => listener(code, null)),
      kill: (signal = 'SIGTERM') => {
        if (signal === 'SIGTERM' || child.pid === undefined) child.kill()
        else process.kill(child.pid, signal)
      },
    }
  }
}

// benchside web: the same app in a browser, served on 127.0.0.1 with a token kept per data folder (server/web-identity.ts).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Command } from 'commander'
import { BenchsideError } from '../contract/index.ts'
import type { Core } from '../core.ts'
import { appRoot } from '../paths.ts'

/** Found from the installation folder, not from this module, which may run from src-main or from the built bundle. */
export const rendererDir = (): string => join(appRoot(), 'out', 'renderer')

function openInBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  const child = spawn(command, [url], { detached: true, stdio: 'ignore' })
  child.on('error', () => process.stderr.write(`Could not open a browser; open the address above yourself.\n`))
  child.unref()
}

export function registerWebCommand(program: Command, openCore: (host: 'web') => Promise<Core>): void {
  program
    .command('web')
    .description('serve Benchside to a browser on this computer')
    .option('--port <n>', 'port to listen on (0 picks a free one; default: the last one used for this data folder when it is free)', (v) => Number(v))
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--new-token', 'make a new access token: addresses printed before stop working')
    .option('--no-open', 'do not open a browser')
    .action(async (o: { port?: number; host: string; newToken?: boolean; open: boolean }) => {
      if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535))
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'port', message: `--port must be a whole number from 0 to 65535, got ${o.port}.` })
      const core = await openCore('web')
      // The HTTP and WebSocket servers load only for this command.
      const { startWebServer } = await import('../server/web-server.ts')
      const { loadWebIdentity, rememberWebPort } = await import('../server/web-identity.ts')
      const identity = loadWebIdentity(core.store.dataDir, Boolean(o.newToken))
      const start = (port: number) => startWebServer({ core, rendererDir: rendererDir(), host: o.host, port, token: identity.token })
      let server: Awaited<ReturnType<typeof startWebServer>>
      if (o.port !== undefined) server = await start(o.port)
      else {
        // The last port first, so a tab left open reconnects; taken by something else, any free port.
        try {
          server = await start(identity.port ?? 0)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
          server = await start(0)
        }
      }
      rememberWebPort(core.store.dataDir, identity, server.port)
      console.log(`Benchside web: ${server.url}`)
      if (o.host !== '127.0.0.1' && o.host !== 'localhost') console.error('Note: listening beyond this computer; anyone with the token can use Benchside.')
      if (o.open) openInBrowser(server.url)
      const stop = async () => {
        await server.close()
        core.close()
        process.exit(0)
      }
      process.once('SIGINT', () => void stop())
      process.once('SIGTERM', () => void stop())
    })
}

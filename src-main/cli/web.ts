// benchside web: the same app in a browser, served on 127.0.0.1 with a per-start token.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import type { Core } from '../core.ts'
import { startWebServer } from '../server/web-server.ts'

export const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url))

function openInBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  const child = spawn(command, [url], { detached: true, stdio: 'ignore' })
  child.on('error', () => process.stderr.write(`Could not open a browser; open the address above yourself.\n`))
  child.unref()
}

export function registerWebCommand(program: Command, openCore: (host: 'web') => Core): void {
  program
    .command('web')
    .description('serve Benchside to a browser on this computer')
    .option('--port <n>', 'port to listen on (0 picks a free one)', (v) => Number(v), 0)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--no-open', 'do not open a browser')
    .action(async (o) => {
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error(`--port must be a number from 0 to 65535, not '${o.port}'.`)
      const core = openCore('web')
      const server = await startWebServer({ core, rendererDir, host: o.host, port: o.port })
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

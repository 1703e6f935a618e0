// Starts `benchside web` as a user would (a real Node process) and returns the address it printed.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../../bin/benchside.js', import.meta.url))
const rendererIndex = fileURLToPath(new URL('../../out/renderer/index.html', import.meta.url))

export interface WebMode {
  url: string
  process: ChildProcess
  stop(): Promise<void>
}

/** `port` 0 picks a free one; `args` are more options for `benchside web` (e.g. --new-token). */
export async function startWebMode(home: string, options: { port?: number; args?: string[] } = {}): Promise<WebMode> {
  if (!existsSync(rendererIndex)) throw new Error('The renderer is not built: run `npm run build` (npm test does it first).')
  const child = spawn('node', [bin, 'web', '--no-open', '--port', String(options.port ?? 0), ...(options.args ?? [])], {
    env: { ...process.env, BENCHSIDE_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    // Generous: from source through tsx on a busy machine the CLI takes over 20 s to start.
    const timer = setTimeout(() => reject(new Error(`benchside web printed no address in 120 s: ${out}`)), 120_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /^Benchside web: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)$/m.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.once('exit', (code) => reject(new Error(`benchside web exited with ${code}: ${out}`)))
  })
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** The API as scripts call it (POST /api/<method> with the page's token), off the page's own WebSocket. */
export function scriptApi(webUrl: string): <T>(method: string, args: unknown) => Promise<T> {
  const url = new URL(webUrl)
  return async <T>(method: string, args: unknown): Promise<T> => {
    const response = await fetch(`${url.origin}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${url.searchParams.get('token')}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    })
    const reply = (await response.json()) as { ok: boolean; result: T; error?: { message: string } }
    if (!reply.ok) throw new Error(reply.error!.message)
    return reply.result
  }
}

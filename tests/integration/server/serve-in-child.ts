// Test fixture, not a test: web mode in its own process, so a test can see whether bad input kills the server.
// argv: dataDir rendererDir. Prints one JSON line {port, token}; stops when stdin closes.
import { createCore } from '../../../src-main/core.ts'
import { nodeJobLauncher } from '../../../src-main/jobs/node-launcher.ts'
import { startWebServer } from '../../../src-main/server/web-server.ts'

const [dataDir, rendererDir] = process.argv.slice(2)
if (!dataDir || !rendererDir) throw new Error('usage: serve-in-child.ts <dataDir> <rendererDir>')
const core = createCore({ dataDir, host: 'web', launch: nodeJobLauncher })
const server = await startWebServer({ core, rendererDir, port: 0 })
process.stdout.write(JSON.stringify({ port: server.port, token: server.token }) + '\n')
process.stdin.resume()
process.stdin.on('end', () => {
  void server.close().then(() => {
    core.close()
    process.exit(0)
  })
})

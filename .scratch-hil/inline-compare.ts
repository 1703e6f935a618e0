// Diagnostic only: the same hil-finetune, but every job inline in this process (as before the board RPC), to show
// what the event-loop delay test would measure if training ran in the main process.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createCore } from '../src-main/core.ts'
import type { InlineServices } from '../src-main/jobs/context.ts'
import { inlineJobProcess } from '../src-main/jobs/inline-launcher.ts'
import { nodeJobLauncher } from '../src-main/jobs/node-launcher.ts'
import type { JobProgress } from '../src-main/contract/index.ts'
import { tempHome, waitFor } from '../tests/helpers/temp-home.ts'

const home = tempHome()
let inline = false
const core = createCore({ dataDir: home.dir, host: 'cli', launch: () => (inline ? inlineJobProcess({} as InlineServices) : nodeJobLauncher()) })
const ended = new Map<string, JobProgress>()
core.events.on(({ event, payload }) => {
  const p = payload as JobProgress
  if (event === 'jobProgress' && ['finished', 'failed', 'killed'].includes(p.state)) ended.set(p.runUuid, p)
})
const train = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
console.log('train', (await waitFor(() => ended.get(train.uuid), 600_000)).state)
for (let i = 0; ; i++) { try { await core.api.connectAnalogBoard({ port: 'demo' }); break } catch (e) { if (i === 3) throw e; console.log('retry connect') } }
inline = true
const h = monitorEventLoopDelay({ resolution: 10 })
h.enable()
const t0 = Date.now()
const run = await core.api.startJob({ kind: 'hil-finetune', params: { model: train.uuid, board: 'demo', epochs: 1, trainLimit: 1024, limit: 200 } })
const end = await waitFor(() => ended.get(run.uuid), 900_000)
h.disable()
console.log('inline', end.state, end.message, (Date.now() - t0) / 1000, 's', JSON.stringify({ count: h.count, p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }))
await core.analog.closeAll()
core.close()
home.remove()
process.exit(0)

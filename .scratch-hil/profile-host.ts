// Diagnostic only: where does the host's event loop stall while hil-finetune runs in a job process?
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { jobHarness } from '../tests/helpers/job-harness.ts'

const harness = jobHarness()
const core = harness.core
const train = await core.api.startJob({ kind: 'train', params: { architecture: 'mlp-tfc', epochs: 1, validationFraction: 0 } })
console.log('train', (await harness.finish(train.uuid, 600_000)).state)
await core.api.connectAnalogBoard({ port: 'demo' })
const counts = new Map<string, number>()
core.events.on(({ event }) => counts.set(event, (counts.get(event) ?? 0) + 1))
const h = monitorEventLoopDelay({ resolution: 10 })
h.enable()
const t0 = Date.now()
let last = performance.now()
let phase = ''
const stalls: string[] = []
const timer = setInterval(() => {
  const now = performance.now()
  if (now - last > 45) stalls.push(`${((Date.now() - t0) / 1000).toFixed(1)}s (process ${(now / 1000).toFixed(2)}s) gap ${(now - last).toFixed(0)}ms phase ${phase}`)
  last = now
}, 5)
const run = await core.api.startJob({ kind: 'hil-finetune', params: { model: train.uuid, board: 'demo', epochs: 1, trainLimit: 512, limit: 200 } })
core.events.on(({ event, payload }) => { if (event === 'jobProgress') phase = (payload as { phase: string }).phase })
const ended = await harness.finish(run.uuid, 600_000)
clearInterval(timer)
h.disable()
console.log(ended.state, ended.message, (Date.now() - t0) / 1000, 's')
console.log(JSON.stringify({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }))
console.log(stalls.join('\n'))
console.log([...counts])
await core.analog.closeAll()
harness.close()
process.exit(0)

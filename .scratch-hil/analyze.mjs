import { readFileSync, readdirSync } from 'node:fs'
const dir = process.argv[2]
for (const f of readdirSync(dir)) {
  const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'))
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const stack = (id) => { const s = []; while (id !== undefined) { const n = byId.get(id); s.push(`${n.callFrame.functionName || '(anon)'}@${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`); id = parent.get(id) } return s }
  const total = (p.endTime - p.startTime) / 1000
  // busy runs: consecutive non-idle samples
  let t = p.startTime, runStart = null, runSamples = []
  const runs = []
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]
    const name = byId.get(p.samples[i]).callFrame.functionName
    const idle = name === '(idle)' || name === '(program)'
    if (!idle) { if (runStart === null) { runStart = t; runSamples = [] } runSamples.push(p.samples[i]) }
    else if (runStart !== null) { runs.push({ start: runStart, ms: (t - runStart) / 1000, samples: runSamples }); runStart = null }
  }
  runs.sort((a, b) => b.ms - a.ms)
  console.log(f, 'total', total.toFixed(0), 'ms; samples', p.samples.length)
  for (const r of runs.slice(0, 8)) {
    const counts = new Map()
    for (const s of r.samples) { const k = stack(s).slice(0, 6).join(' < '); counts.set(k, (counts.get(k) ?? 0) + 1) }
    console.log(`\n== busy ${r.ms.toFixed(0)}ms at ${((r.start - p.startTime) / 1e6).toFixed(1)}s`)
    for (const [k, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`  ${c} ${k}`)
  }
}

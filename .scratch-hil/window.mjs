import { readFileSync } from 'node:fs'
const [file, fromS, toS] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const p = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(p.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const label = (id) => { const n = byId.get(id); return `${n.callFrame.functionName || '(anon)'}@${n.callFrame.url.split('/').slice(-2).join('/')}` }
let t = p.startTime
const self = new Map(), incl = new Map()
let busy = 0, idle = 0, bigGaps = []
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i]; t += dt
  const s = (t - p.startTime) / 1e6
  if (s < fromS || s > toS) continue
  const id = p.samples[i]; const name = byId.get(id).callFrame.functionName
  if (dt > 30000) bigGaps.push(`${s.toFixed(2)}s dt ${(dt/1000).toFixed(0)}ms sample ${label(id)}`)
  if (name === '(idle)') { idle += dt; continue }
  busy += dt
  self.set(label(id), (self.get(label(id)) ?? 0) + dt)
  const seen = new Set(); let x = id
  while (x !== undefined) { const l = label(x); if (!seen.has(l)) { seen.add(l); incl.set(l, (incl.get(l) ?? 0) + dt) } x = parent.get(x) }
}
console.log('busy ms', (busy/1000).toFixed(0), 'idle ms', (idle/1000).toFixed(0))
console.log('-- self'); for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log((v/1000).toFixed(0), k)
console.log('-- inclusive'); for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((v/1000).toFixed(0), k)
console.log('-- big gaps'); console.log(bigGaps.slice(0, 40).join('\n'))

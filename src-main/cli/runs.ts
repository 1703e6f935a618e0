// benchside runs list|show|tag|note|delete|export
import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { RunFilter, RunStatus, toCsv, type RunDetail } from '../contract/index.ts'
import { withDefault, type OpenApi } from './api.ts'
import { formatTime, printJson, printTable } from './output.ts'

export function registerRunCommands(program: Command, openApi: OpenApi): void {
  const runs = program.command('runs').description('browse, tag, annotate, delete and export past runs')

  runs
    .command('list')
    .description('runs, newest first')
    .option('--kind <kind>', 'only runs of this kind (e.g. selftest)')
    .option('--status <status>', `only runs with this status (${RunStatus.options.join(', ')})`)
    .option('--tag <tag>', 'only runs with this tag')
    .option('--text <text>', 'only runs whose name, kind, id, tags or notes contain this text')
    .option('--deleted', 'include deleted runs')
    .option('--limit <n>', withDefault('at most this many runs', RunFilter.shape.limit), Number)
    .option('--json', 'print JSON')
    .action(async (o) => {
      const list = await (
        await openApi()
      ).listRuns({ kind: o.kind, status: o.status?.toUpperCase(), tag: o.tag, text: o.text, includeDeleted: o.deleted, limit: o.limit })
      if (o.json) return printJson(list)
      if (list.length === 0) return console.log('No runs yet. Start one with: benchside jobs run selftest')
      printTable(
        ['ID', 'NAME', 'KIND', 'STATUS', 'STARTED', 'TAGS'],
        list.map((r) => [r.uuid.slice(0, 8), r.name, r.kind, r.deleted ? `${r.status} (deleted)` : r.status, formatTime(r.startTime), r.tags.join(',')]),
      )
    })

  runs
    .command('show <run>')
    .description('one run: params, last metric values, tags, notes, artifacts')
    .option('--json', 'print JSON (with every metric point)')
    .action(async (run: string, o) => {
      const detail = await (await openApi()).getRun({ run })
      if (o.json) return printJson(detail)
      printRun(detail)
    })

  runs
    .command('tag <run> <tags...>')
    .description('add tags to a run (--remove takes them off)')
    .option('--remove', 'remove the tags instead')
    .option('--json', 'print JSON')
    .action(async (run: string, tags: string[], o) => {
      const api = await openApi()
      let summary = null
      for (const tag of tags) summary = o.remove ? await api.untagRun({ run, tag }) : await api.tagRun({ run, tag })
      if (o.json) return printJson(summary)
      console.log(`${summary!.uuid.slice(0, 8)} tags: ${summary!.tags.join(', ') || '(none)'}`)
    })

  runs
    .command('note <run> <text>')
    .description('append a note to a run')
    .option('--json', 'print JSON')
    .action(async (run: string, text: string, o) => {
      const note = await (await openApi()).addNote({ run, text })
      if (o.json) return printJson(note)
      console.log(`Note ${note.id} added.`)
    })

  runs
    .command('delete <run>')
    .description('soft-delete a run (--restore brings it back)')
    .option('--restore', 'undo an earlier delete')
    .option('--json', 'print JSON')
    .action(async (run: string, o) => {
      const api = await openApi()
      const summary = o.restore ? await api.restoreRun({ run }) : await api.deleteRun({ run })
      if (o.json) return printJson(summary)
      console.log(`${summary.uuid.slice(0, 8)} ${o.restore ? 'restored' : 'deleted (restore with --restore)'}.`)
    })

  runs
    .command('export <runs...>')
    .description('the full record of runs as JSON, or their metrics as CSV')
    .option('--csv', 'metrics as CSV: run,key,step,value,time')
    .option('--out <file>', 'write to this file instead of the terminal')
    .action(async (ids: string[], o) => {
      const doc = await (await openApi()).exportRuns({ runs: ids })
      const text = o.csv ? metricsCsv(doc.runs) : JSON.stringify(doc, null, 2) + '\n'
      if (o.out) {
        writeFileSync(o.out, text)
        console.error(`Exported ${doc.runs.length} run(s) to ${o.out}.`)
      } else process.stdout.write(text)
    })
}

function metricsCsv(runs: RunDetail[]): string {
  return toCsv([['run', 'key', 'step', 'value', 'time'], ...runs.flatMap((run) => run.metrics.map((m) => [run.uuid, m.key, m.step, m.value, m.time]))])
}

function printRun(r: RunDetail): void {
  console.log(`${r.name}  (${r.uuid})`)
  console.log(`  kind ${r.kind} · experiment ${r.experiment} · ${r.status}${r.deleted ? ' (deleted)' : ''}`)
  console.log(`  started ${formatTime(r.startTime)} · ended ${formatTime(r.endTime)}`)
  if (r.error) console.log(`  error: ${r.error}`)
  if (r.tags.length) console.log(`  tags: ${r.tags.join(', ')}`)
  const params = Object.entries(r.params)
  if (params.length) {
    console.log('Params')
    printTable(
      ['  KEY', 'VALUE'],
      params.map(([k, v]) => [`  ${k}`, v]),
    )
  }
  const last = new Map<string, { value: number; step: number; count: number }>()
  for (const m of r.metrics) last.set(m.key, { value: m.value, step: m.step, count: (last.get(m.key)?.count ?? 0) + 1 })
  if (last.size) {
    console.log('Metrics (last value)')
    printTable(
      ['  KEY', 'STEP', 'VALUE', 'POINTS'],
      [...last].map(([k, v]) => [`  ${k}`, v.step, v.value.toPrecision(6), v.count]),
    )
  }
  for (const n of r.notes) console.log(`Note ${formatTime(n.time)}: ${n.text}`)
  for (const a of r.artifacts) console.log(`Artifact ${a.path} (${a.size} bytes, sha256 ${a.sha256.slice(0, 12)}…)`)
}

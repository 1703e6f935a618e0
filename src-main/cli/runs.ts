// benchside runs list|compare|show|tag|note|delete|export
import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  BenchsideError,
  formatMetric,
  RunFilter,
  RunQuery,
  RunStatus,
  runFieldText,
  toCsv,
  type ColumnValue,
  type MetricValue,
  type RunColumn,
  type RunDetail,
  type RunSortKey,
  type RunSummary,
} from '../contract/index.ts'
import { checked, withDefault, type OpenApi } from './api.ts'
import { formatTime, printJson, printTable } from './output.ts'
import { comparisonCsv, onlyDifferences, printComparison } from './run-comparison.ts'
import { SORT_SYNTAX, cellText, columnsOption, queryAll, sortOption } from './run-table.ts'

export function registerRunCommands(program: Command, openApi: OpenApi): void {
  const runs = program.command('runs').description('browse, tag, annotate, delete and export past runs')

  runs
    .command('list')
    .description('runs, newest first; --where filters with a query (docs/run-query.md), --sort and --columns pick the order and extra columns')
    .option('--kind <kind>', 'only runs of this kind (e.g. selftest)')
    .option('--status <status>', `only runs with this status (${RunStatus.options.join(', ')})`)
    .option('--tag <tag>', 'only runs with this tag')
    .option('--text <text>', 'only runs whose name, kind, id, tags or notes contain this text')
    .option('--where <query>', "only runs the query matches, e.g. 'params.noise_sigma > 0.5 and metrics.test_accuracy > 0.8'")
    .option(
      '--sort <field>',
      withDefault(`sort by ${SORT_SYNTAX}`, RunQuery.shape.sort, (s) => `${sortText(s.by)}:${s.direction}`),
    )
    .option('--columns <fields>', 'extra columns, comma-separated: params.<key> or metrics.<key> (last value)')
    .option('--deleted', 'include deleted runs')
    .option('--limit <n>', withDefault('at most this many runs', RunFilter.shape.limit), Number)
    .option('--json', 'print JSON')
    .action(async (o) => {
      const api = await openApi()
      const filter = { kind: o.kind, status: o.status?.toUpperCase(), tag: o.tag, text: o.text, includeDeleted: o.deleted }
      if (o.where === undefined && o.sort === undefined && o.columns === undefined) {
        const list = await api.listRuns({ ...filter, limit: o.limit })
        if (o.json) return printJson(list)
        if (list.length === 0) return console.log('No runs yet. Start one with: benchside jobs run selftest')
        return printRunTable(list, [], [])
      }
      const sort = sortOption(o.sort)
      const columns = columnsOption(o.columns)
      // A param or metric sort key is shown as a column too, so the order can be read off the table.
      const sortColumn = typeof sort?.by === 'object' ? sort.by : null
      if (sortColumn && !columns.some((c) => c.kind === sortColumn.kind && c.key === sortColumn.key)) columns.push(sortColumn)
      const limit = checked(RunFilter.shape.limit, o.limit, 'limit')
      const { rows, total } = await queryAll(api, { ...filter, where: o.where, sort, columns }, limit)
      if (o.json) return printJson(rows)
      if (rows.length === 0) return console.log(total === 0 && o.where !== undefined ? 'No runs match the query.' : 'No runs.')
      printRunTable(
        rows,
        columns,
        rows.map((r) => r.values),
      )
      if (total > rows.length) console.error(`Showing ${rows.length} of ${total} runs; --limit shows more.`)
    })

  runs
    .command('compare <runs...>')
    .description('two or more runs side by side: params, metrics (last, min, max, best), tags and artifact hashes, one column per run')
    .option('--diff-only', 'only the rows where the runs differ')
    .option('--csv', 'print CSV: section,key,field,direction,differs, then one column per run')
    .option('--json', 'print JSON')
    .action(async (ids: string[], o) => {
      if (o.csv && o.json) throw new BenchsideError({ code: 'INVALID_ARGS', message: 'Choose --csv or --json, not both.' })
      const comparison = await (await openApi()).compareRuns({ runs: ids })
      const shown = o.diffOnly ? onlyDifferences(comparison) : comparison
      if (o.json) return printJson(shown)
      if (o.csv) return void process.stdout.write(comparisonCsv(shown))
      printComparison(comparison, Boolean(o.diffOnly))
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

/** The run list's table: id, name, kind, status, start, the chosen columns, tags (last: it is not padded). */
function printRunTable(list: RunSummary[], columns: RunColumn[], values: ColumnValue[][]): void {
  printTable(
    ['ID', 'NAME', 'KIND', 'STATUS', 'STARTED', ...columns.map((c) => runFieldText(c)), 'TAGS'],
    list.map((r, i) => [
      r.uuid.slice(0, 8),
      r.name,
      r.kind,
      r.deleted ? `${r.status} (deleted)` : r.status,
      formatTime(r.startTime),
      ...(values[i] ?? []).map(cellText),
      r.tags.join(','),
    ]),
  )
}

/** A sort key as --sort writes it. */
function sortText(by: RunSortKey): string {
  return typeof by === 'string' ? by : runFieldText(by)
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
  const last = new Map<string, { value: MetricValue; step: number; count: number }>()
  for (const m of r.metrics) last.set(m.key, { value: m.value, step: m.step, count: (last.get(m.key)?.count ?? 0) + 1 })
  if (last.size) {
    console.log('Metrics (last value)')
    printTable(
      ['  KEY', 'STEP', 'VALUE', 'POINTS'],
      [...last].map(([k, v]) => [`  ${k}`, v.step, formatMetric(v.value, (n) => n.toPrecision(6)), v.count]),
    )
  }
  for (const n of r.notes) console.log(`Note ${formatTime(n.time)}: ${n.text}`)
  for (const a of r.artifacts) console.log(`Artifact ${a.path} (${a.size} bytes, sha256 ${a.sha256.slice(0, 12)}…)`)
}

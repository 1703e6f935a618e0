// benchside boards add|list|test|remove, ops roofline|layers|latency
import { readFileSync, writeFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Command } from 'commander'
import { AddBoardArgs, BenchsideError, boardMethods, LayerLatencyParams, parseCsv, RooflineParams } from '../contract/index.ts'
import { checked, numberList, withDefault, type OpenApi } from './api.ts'
import { followJob, jobResult, repeatable } from './jobs.ts'
import { printJson, printTable } from './output.ts'

export function registerBoardCommands(program: Command, openApi: OpenApi): void {
  const boards = program.command('boards').description('this computer and ARM boards over SSH')
  boards
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const list = await (await openApi()).listBoards({})
      if (o.json) return printJson(list)
      printTable(
        ['ID', 'NAME', 'KIND', 'ADDRESS', 'HOST KEY'],
        list.map((b) => [b.id, b.name, b.kind, b.address, b.fingerprint]),
      )
    })
  boards
    .command('add <id> <user@host>')
    .description('connect (trusting the host key on first use), compile the agent there, and register the board')
    .option('--port <n>', withDefault('SSH port', AddBoardArgs.shape.port), Number)
    .option('--key <file>', 'private key file (default: ssh-agent via SSH_AUTH_SOCK)')
    .option('--name <name>', 'a display name')
    .option('--json', 'print JSON')
    .action(async (id: string, target: string, o) => {
      const at = target.lastIndexOf('@')
      if (at < 1) throw new BenchsideError({ code: 'INVALID_ARGS', field: 'target', message: `Write the board as user@host, not '${target}'.` })
      const added = await (
        await openApi()
      ).addBoard({ id, name: o.name, username: target.slice(0, at), host: target.slice(at + 1), port: o.port, keyPath: o.key })
      if (o.json) return printJson(added)
      console.log(`Added board '${added.id}' (${added.address}). Host key ${added.fingerprint} — check it matches the board's.`)
      console.log(`${added.test.arch}, ${added.test.cores} cores, ${added.test.simd}, agent ${added.test.agentVersion} built with ${added.test.cflags}.`)
    })
  boards
    .command('test <board>')
    .option('--json', 'print JSON')
    .action(async (board: string, o) => {
      const t = await (await openApi()).testBoard({ board })
      if (o.json) return printJson(t)
      console.log(`${t.id}: ${t.arch}${t.os ? ` (${t.os})` : ''}, ${t.cores} cores, SIMD ${t.simd}, ${t.compiler} ${t.cflags}, agent ${t.agentVersion}`)
    })
  boards.command('remove <board>').action(async (board: string) => {
    await (await openApi()).removeBoard({ board })
    console.log(`Removed board '${board}' and the host key trusted for it.`)
  })
  boards
    .command('forget-key <board>')
    .description('forget the host key trusted for a board (after a reinstall); the next connection trusts the key it offers')
    .action(async (board: string) => {
      const { forgotten } = await (await openApi()).forgetHostKey({ board })
      console.log(
        forgotten
          ? `Forgot host key ${forgotten} of '${board}'. The next connection trusts the key the board offers then: check its fingerprint.`
          : `'${board}' had no trusted host key.`,
      )
    })

  const ops = program.command('ops').description('operators against the board’s hardware limits')
  ops
    .command('roofline')
    .description('measure peak FLOP/s, bandwidths and fp32 / int8 / bit-serial GEMM on a board (a job)')
    .option('--board <id>', withDefault('board id', RooflineParams.shape.board))
    .option('--sizes <list>', withDefault('GEMM sizes N', RooflineParams.shape.sizes))
    .option('--bits <list>', withDefault('bit-serial bit widths', RooflineParams.shape.bits))
    .option('--threads <n>', withDefault('threads', RooflineParams.shape.threads), Number)
    .option('--force', 'measure again even what the latency table has')
    .option('--json', 'print the study as JSON')
    .action(async (o) => {
      const params = checked(
        RooflineParams,
        { board: o.board, sizes: numberList(o.sizes), bits: numberList(o.bits), threads: o.threads, force: o.force },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({ kind: 'roofline', params })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const study = await jobResult(api, done.uuid, 'roofline')
      if (o.json) return printJson(study)
      console.log(
        `Board ${study.board.id} (${study.board.arch}, ${study.board.simd}): peak ${(study.peakOpsPerSecond / 1e9).toFixed(1)} GFLOP/s; ` +
          study.bandwidth.map((b) => `${b.level} ${(b.bytesPerSecond / 1e9).toFixed(1)} GB/s`).join(', '),
      )
      printTable(
        ['OPERATOR', 'GOP/S', 'INTENSITY', '% OF CEILING', 'BOUND BY', 'VS FP32'],
        study.operators.map((op) => [
          op.name,
          (op.achievedOpsPerSecond / 1e9).toFixed(1),
          op.intensity.toFixed(1),
          `${(op.fractionOfCeiling * 100).toFixed(0)}%`,
          op.binding,
          op.speedupOverF32 === null ? '-' : `${op.speedupOverF32.toFixed(2)}×`,
        ]),
      )
    })
  ops
    .command('measure <operation>')
    .description('measure one operation on a board (peak_flops, bandwidth, gemm_f32, gemm_i8, gemm_bitserial, conv2d, network); kept in the latency table')
    .option('--board <id>', withDefault('board id', boardMethods.measureOperation.args.shape.board))
    .option('-a, --arg <key=value>', 'an agent argument (repeatable), e.g. -a m=512 -a n=512 -a k=512', repeatable)
    .option('--force', 'measure again even when the latency table has it')
    .option('--json', 'print JSON')
    .action(async (operation: string, o) => {
      const pairs: string[] = o.arg ?? []
      const args = Object.fromEntries(
        pairs.map((pair) => {
          const at = pair.indexOf('=')
          if (at < 1) throw new BenchsideError({ code: 'INVALID_ARGS', field: 'arg', message: `Write agent arguments as key=value, not '${pair}'.` })
          const raw = pair.slice(at + 1)
          const number = Number(raw)
          return [pair.slice(0, at), raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(number) && raw !== '' ? number : raw]
        }),
      )
      const request = checked(boardMethods.measureOperation.args, { board: o.board, operation, args, force: o.force })
      const result = await (await openApi()).measureOperation(request)
      if (o.json) return printJson(result)
      const figure = (key: string): number | undefined => {
        const value = result.answer[key]
        return typeof value === 'number' ? value : undefined
      }
      const [gops, gbps, intensity] = [figure('gops_per_s'), figure('gb_per_s'), figure('intensity_ops_per_byte')]
      const rate = gops !== undefined ? `${gops.toFixed(1)} GOP/s` : gbps !== undefined ? `${gbps.toFixed(1)} GB/s` : ''
      console.log(
        `${operation} on ${request.board}: median ${(result.medianS * 1e6).toFixed(2)} µs (${(result.minS * 1e6).toFixed(2)}–${(result.maxS * 1e6).toFixed(2)})` +
          `${rate ? ` · ${rate}` : ''}${intensity !== undefined ? ` · intensity ${intensity.toFixed(1)} ops/byte` : ''}` +
          `${result.cached ? ' · from the latency table (use --force to measure again)' : ''}`,
      )
    })
  ops
    .command('layers <model>')
    .description("time a model's dense and conv layers on a board (a job)")
    .option('--board <id>', withDefault('board id', LayerLatencyParams.shape.board))
    .option('--policy <json>', 'per-layer policy, e.g. [{"keep":0.5,"bits":8},…]')
    .option('--json', 'print JSON')
    .action(async (model: string, o) => {
      const params = checked(
        LayerLatencyParams,
        { board: o.board, model, policy: o.policy === undefined ? undefined : jsonOption('--policy', o.policy) },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({ kind: 'layer-latency', params })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'layer-latency')
      if (o.json) return printJson(result)
      printTable(
        ['LAYER', 'KERNEL', 'KEEP', 'BITS', 'MEDIAN µs'],
        result.layers.map((l) => [l.id, l.kernel, l.keep, l.bits, (l.medianS * 1e6).toFixed(1)]),
      )
      console.log(`Total ${(result.totalS * 1e3).toFixed(3)} ms${result.skipped.length ? `; not timed: ${result.skipped.join(', ')}` : ''}`)
    })
  const latency = ops.command('latency').description('the latency look-up table')
  latency
    .command('export')
    .option('--board <id>', 'only this board')
    .option('--out <file>', 'write to a file: .csv, or .json for one object per row')
    .action(async (o: { board?: string; out?: string }) => {
      const format = o.out === undefined ? 'csv' : latencyFormat(o.out)
      const { csv, rows } = await (await openApi()).exportLatencyTable({ board: o.board })
      if (!o.out) return void process.stdout.write(csv)
      writeFileSync(o.out, format === 'json' ? latencyJson(csv) : csv)
      console.error(`Exported ${rows} rows to ${o.out} as ${format.toUpperCase()}.`)
    })
  latency.command('import <file>').action(async (file: string) => {
    const { rows } = await (await openApi()).importLatencyTable({ csv: readFileSync(file, 'utf8') })
    console.log(`Imported ${rows} rows.`)
  })
}

/** The format a file name asks for; a name that asks for neither is refused rather than given CSV it does not expect. */
function latencyFormat(file: string): 'csv' | 'json' {
  const extension = extname(file).toLowerCase()
  if (extension === '.csv') return 'csv'
  if (extension === '.json') return 'json'
  throw new BenchsideError({
    code: 'INVALID_ARGS',
    field: 'out',
    message: `--out must end in .csv or .json (the format follows the extension), got '${file}'.`,
  })
}

/** The CSV's rows as JSON objects keyed by its header; cells that are numbers become numbers, empty cells null. */
function latencyJson(csv: string): string {
  const [header = [], ...rows] = parseCsv(csv)
  const cell = (text: string): string | number | null => (text === '' ? null : Number.isFinite(Number(text)) ? Number(text) : text)
  return (
    JSON.stringify(
      rows.map((row) => Object.fromEntries(header.map((key, i) => [key, cell(row[i] ?? '')]))),
      null,
      2,
    ) + '\n'
  )
}

/** An option that holds JSON; text that is not JSON gets a sentence, not a parser's stack trace. */
function jsonOption(flag: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: flag, message: `${flag} takes JSON, e.g. '[{"keep":0.5,"bits":8}]'; '${text}' is not JSON.` })
  }
}

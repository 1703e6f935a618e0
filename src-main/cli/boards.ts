// benchside boards add|list|test|remove, ops roofline|layers|latency
import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { Core } from '../core.ts'
import type { RooflineStudy } from '../hardware/roofline-study.ts'
import { followJob } from './jobs.ts'
import { printJson, printTable } from './output.ts'

type OpenCore = () => Core

const numbers = (text: string) => text.split(',').map((v) => Number(v.trim()))

export function registerBoardCommands(program: Command, openCore: OpenCore): void {
  const boards = program.command('boards').description('this computer and ARM boards over SSH')
  boards
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const list = await openCore().api.listBoards({})
      if (o.json) return printJson(list)
      printTable(['ID', 'NAME', 'KIND', 'ADDRESS', 'HOST KEY'], list.map((b) => [b.id, b.name, b.kind, b.address, b.fingerprint]))
    })
  boards
    .command('add <id> <user@host>')
    .description('connect (trusting the host key on first use), compile the agent there, and register the board')
    .option('--port <n>', 'SSH port', Number, 22)
    .option('--key <file>', 'private key file (default: ssh-agent via SSH_AUTH_SOCK)')
    .option('--name <name>', 'a display name')
    .option('--json', 'print JSON')
    .action(async (id: string, target: string, o) => {
      const at = target.lastIndexOf('@')
      if (at < 1) throw new Error(`Write the board as user@host, not '${target}'.`)
      const added = await openCore().api.addBoard({ id, name: o.name, username: target.slice(0, at), host: target.slice(at + 1), port: o.port, keyPath: o.key })
      if (o.json) return printJson(added)
      console.log(`Added board '${added.id}' (${added.address}). Host key ${added.fingerprint} — check it matches the board's.`)
      console.log(`${added.test.arch}, ${added.test.cores} cores, ${added.test.simd}, agent ${added.test.agentVersion} built with ${added.test.cflags}.`)
    })
  boards
    .command('test <board>')
    .option('--json', 'print JSON')
    .action(async (board: string, o) => {
      const t = await openCore().api.testBoard({ board })
      if (o.json) return printJson(t)
      console.log(`${t.id}: ${t.arch}${t.os ? ` (${t.os})` : ''}, ${t.cores} cores, SIMD ${t.simd}, ${t.compiler} ${t.cflags}, agent ${t.agentVersion}`)
    })
  boards
    .command('remove <board>')
    .action(async (board: string) => {
      await openCore().api.removeBoard({ board })
      console.log(`Removed board '${board}'.`)
    })

  const ops = program.command('ops').description('operators against the board’s hardware limits')
  ops
    .command('roofline')
    .description('measure peak FLOP/s, bandwidths and fp32 / int8 / bit-serial GEMM on a board (a job)')
    .option('--board <id>', 'board id', 'local')
    .option('--sizes <list>', 'GEMM sizes N', '256,512,1024')
    .option('--bits <list>', 'bit-serial bit widths', '1,2,4')
    .option('--threads <n>', 'threads', Number, 1)
    .option('--force', 'measure again even what the latency table has')
    .option('--json', 'print the study as JSON')
    .action(async (o) => {
      const core = openCore()
      const run = await core.api.startJob({ kind: 'roofline', params: { board: o.board, sizes: numbers(o.sizes), bits: numbers(o.bits), threads: o.threads, force: Boolean(o.force) } })
      const done = await followJob(core, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const study = JSON.parse(readFileSync(core.store.runs.artifactPath(done.uuid, 'roofline.json'), 'utf8')) as RooflineStudy
      if (o.json) return printJson(study)
      console.log(`Board ${study.board.id} (${study.board.arch}, ${study.board.simd}): peak ${(study.peakOpsPerSecond / 1e9).toFixed(1)} GFLOP/s; ` +
        study.bandwidth.map((b) => `${b.level} ${(b.bytesPerSecond / 1e9).toFixed(1)} GB/s`).join(', '))
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
    .option('--board <id>', 'board id', 'local')
    .option('-a, --arg <key=value>', 'an agent argument (repeatable), e.g. -a m=512 -a n=512 -a k=512', (v: string, all: string[]) => [...all, v], [])
    .option('--force', 'measure again even when the latency table has it')
    .option('--json', 'print JSON')
    .action(async (operation: string, o) => {
      const args = Object.fromEntries(
        (o.arg as string[]).map((pair) => {
          const at = pair.indexOf('=')
          if (at < 1) throw new Error(`Write agent arguments as key=value, not '${pair}'.`)
          const raw = pair.slice(at + 1)
          const number = Number(raw)
          return [pair.slice(0, at), raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(number) && raw !== '' ? number : raw]
        }),
      )
      const result = await openCore().api.measureOperation({ board: o.board, operation: operation as 'gemm_f32', args, force: Boolean(o.force) })
      if (o.json) return printJson(result)
      const a = result.answer as { gops_per_s?: number; gb_per_s?: number; intensity_ops_per_byte?: number }
      const rate = a.gops_per_s !== undefined ? `${a.gops_per_s.toFixed(1)} GOP/s` : a.gb_per_s !== undefined ? `${a.gb_per_s.toFixed(1)} GB/s` : ''
      console.log(
        `${operation} on ${o.board}: median ${(result.medianS * 1e6).toFixed(2)} µs (${(result.minS * 1e6).toFixed(2)}–${(result.maxS * 1e6).toFixed(2)})` +
          `${rate ? ` · ${rate}` : ''}${a.intensity_ops_per_byte !== undefined ? ` · intensity ${a.intensity_ops_per_byte.toFixed(1)} ops/byte` : ''}` +
          `${result.cached ? ' · from the latency table (use --force to measure again)' : ''}`,
      )
    })
  ops
    .command('layers <model>')
    .description("time a model's dense and conv layers on a board (a job)")
    .option('--board <id>', 'board id', 'local')
    .option('--policy <json>', 'per-layer policy, e.g. [{"keep":0.5,"bits":8},…]')
    .option('--json', 'print JSON')
    .action(async (model: string, o) => {
      const core = openCore()
      const run = await core.api.startJob({ kind: 'layer-latency', params: { board: o.board, model, policy: o.policy ? JSON.parse(o.policy) : undefined } })
      const done = await followJob(core, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = JSON.parse(readFileSync(core.store.runs.artifactPath(done.uuid, 'layer-latency.json'), 'utf8')) as {
        layers: { id: string; kernel: string; medianS: number; keep: number; bits: number }[]
        totalS: number
        skipped: string[]
      }
      if (o.json) return printJson(result)
      printTable(['LAYER', 'KERNEL', 'KEEP', 'BITS', 'MEDIAN µs'], result.layers.map((l) => [l.id, l.kernel, l.keep, l.bits, (l.medianS * 1e6).toFixed(1)]))
      console.log(`Total ${(result.totalS * 1e3).toFixed(3)} ms${result.skipped.length ? `; not timed: ${result.skipped.join(', ')}` : ''}`)
    })
  const latency = ops.command('latency').description('the latency look-up table')
  latency
    .command('export')
    .option('--board <id>', 'only this board')
    .option('--out <file>', 'write to a file')
    .action(async (o) => {
      const { csv, rows } = await openCore().api.exportLatencyTable({ board: o.board })
      if (o.out) (writeFileSync(o.out, csv), console.error(`Exported ${rows} rows to ${o.out}.`))
      else process.stdout.write(csv)
    })
  latency
    .command('import <file>')
    .action(async (file: string) => {
      const { rows } = await openCore().api.importLatencyTable({ csv: readFileSync(file, 'utf8') })
      console.log(`Imported ${rows} rows.`)
    })
}

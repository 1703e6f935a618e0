// benchside doctor: what this computer has and lacks for Benchside, each line with what it disables and how to fix it.
// Runs without opening the data folder's database, so it can say why that fails; exits 0 when the core works.
import type { Command } from 'commander'
import type { DoctorReport } from '../contract/index.ts'
import { runDoctor } from '../services/doctor.ts'
import { printJson } from './output.ts'

export function printDoctor(report: DoctorReport, write: (line: string) => void = (line) => process.stdout.write(line + '\n')): void {
  const labelWidth = Math.max(...report.checks.map((c) => c.label.length))
  for (const check of report.checks) {
    write(`${check.status.padEnd(8)} ${check.label.padEnd(labelWidth)}  ${check.detail}`)
    if (check.status === 'ok') continue
    const indent = ' '.repeat(9 + labelWidth + 2)
    if (check.disables) write(`${indent}disables: ${check.disables}`)
    if (check.fix) write(`${indent}fix: ${check.fix}`)
  }
  const missingCore = report.checks.filter((c) => c.core && c.status === 'missing')
  const optional = report.checks.filter((c) => !c.core && c.status !== 'ok')
  write('')
  if (missingCore.length > 0) {
    write(
      `Benchside cannot work here yet: ${missingCore.map((c) => c.label).join(', ')} ${missingCore.length === 1 ? 'is' : 'are'} missing; see the fixes above.`,
    )
  } else if (optional.length === 0) {
    write('Everything is in place.')
  } else {
    write(`The core works; ${optional.length} optional ${optional.length === 1 ? 'piece is' : 'pieces are'} missing or degraded (see above).`)
  }
  if (report.installCommand && report.checks.some((c) => c.status === 'missing' && !c.core)) {
    write(`Every optional system package for the demo board and full test coverage: ${report.installCommand}`)
  }
}

export function registerDoctorCommand(program: Command, dataDir: () => string): void {
  program
    .command('doctor')
    .description('checks this computer: Node, npm, compute backend, Electron, database drivers, compilers, optional system packages, data folder')
    .option('--json', 'print the report as JSON')
    .action(async (o) => {
      const report = await runDoctor({ dataDir: dataDir(), host: 'cli' })
      if (o.json) printJson(report)
      else printDoctor(report)
      process.exitCode = report.coreWorks ? 0 : 1
    })
}

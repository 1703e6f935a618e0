// Ends every run with one plain line, `Tests: N passed, N failed, N skipped`, which CI systems read without parsing colours;
// a file that failed outside its tests counts as a failure. Before it, one line names what was skipped for missing components.
import type { SerializedError } from 'vitest'
import type { Reporter, TestModule } from 'vitest/node'
import { installCommand } from '../../src-main/services/system-components.ts'
import { componentLabel, isComponent, type Component } from './components.ts'

export interface RunSummary {
  passed: number
  failed: number
  skipped: number
  /** Files that failed outside any test (start-up, hooks, imports), relative to the project. */
  brokenFiles: string[]
  /** Skipped tests per missing component, with the first reason given. */
  missing: Map<Component, { tests: number; reason: string }>
}

export function summarize(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): RunSummary {
  const summary: RunSummary = { passed: 0, failed: 0, skipped: 0, brokenFiles: [], missing: new Map() }
  for (const module of testModules) {
    let failedTests = 0
    for (const test of module.children.allTests()) {
      const state = test.result().state
      if (state === 'passed') summary.passed++
      else if (state === 'failed') failedTests++
      else {
        summary.skipped++
        for (const { component, reason } of test.meta().missing ?? []) {
          if (!isComponent(component)) continue
          const entry = summary.missing.get(component) ?? { tests: 0, reason }
          entry.tests++
          summary.missing.set(component, entry)
        }
      }
    }
    summary.failed += failedTests
    if (module.state() === 'failed' && failedTests === 0) {
      summary.failed++
      summary.brokenFiles.push(module.relativeModuleId)
    }
  }
  summary.failed += unhandledErrors.length
  return summary
}

export function missingLine(missing: RunSummary['missing'], platform: NodeJS.Platform = process.platform): string | null {
  if (missing.size === 0) return null
  const parts = [...missing].map(([component, { tests, reason }]) => `${componentLabel(component)}: ${tests} ${tests === 1 ? 'test' : 'tests'} (${reason})`)
  const command = installCommand(platform)
  return `Skipped for missing system components: ${parts.join('; ')}. ${command ? `Install them all with: ${command}` : 'See docs/doctor.md for what to install.'}`
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const summary = summarize(testModules, unhandledErrors)
    const lines = ['']
    const skipped = missingLine(summary.missing)
    if (skipped) lines.push(skipped)
    if (summary.brokenFiles.length > 0) lines.push(`Failed outside any test (see the errors above): ${summary.brokenFiles.join(', ')}`)
    lines.push(`Tests: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`)
    process.stdout.write(lines.join('\n') + '\n')
  }
}

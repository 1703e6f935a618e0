// The system components tests need, judged on PATH as the code under test would run them: `requires(...)` gives a test
// or suite options that skip it, with the reason, when one is missing; the summary reporter names them at the end.
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { TestOptions } from 'vitest'
import { ptyPairSupport } from '../../src-main/hardware/emulator/pty-pair.ts'
import { detectComponent, systemComponent, SYSTEM_COMPONENT_IDS, type SystemComponentId } from '../../src-main/services/system-components.ts'

/** A system package, or 'pty': a PTY pair for the demo board (Benchside's helper, built with cc, else socat). */
export type Component = SystemComponentId | 'pty'

export interface MissingComponent {
  component: Component
  reason: string
}

declare module 'vitest' {
  interface TaskMeta {
    /** The components a test or suite needs. */
    requires?: Component[]
    /** Those missing on this machine, with why; non-empty only when the test was skipped for them. */
    missing?: MissingComponent[]
  }
}

/** Why the component cannot be used with this environment's PATH, or null when it can. */
export function missingReason(component: Component, env: NodeJS.ProcessEnv = process.env): string | null {
  if (component === 'pty') return ptyPairSupport({ env }).problem
  const presence = detectComponent(component, env)
  return presence.present ? null : presence.detail
}

export function componentLabel(component: Component): string {
  return component === 'pty' ? 'a PTY pair for the demo board (cc or socat)' : systemComponent(component).label
}

export function isComponent(value: string): value is Component {
  return value === 'pty' || (SYSTEM_COMPONENT_IDS as readonly string[]).includes(value)
}

/** Options for `describe(name, requires('socat'), …)` or `it(…)`: skipped, naming what is missing and why, unless all are here. */
export function requires(...components: Component[]): Pick<TestOptions, 'skip' | 'meta'> {
  const missing: MissingComponent[] = []
  for (const component of components) {
    const reason = missingReason(component)
    if (reason) missing.push({ component, reason })
  }
  return { skip: missing.length > 0, meta: { requires: components, missing } }
}

export function has(component: Component): boolean {
  return missingReason(component) === null
}

/**
 * A PATH of one temporary folder holding a link to every program on `path` except those named: the machine without
 * them, as far as anything found through PATH can tell (sbin folders beside bin folders are folded in too, then left
 * out, so sshd stays hidden).
 */
export function pathWithout(programs: readonly string[], path: string = process.env.PATH ?? ''): { PATH: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'benchside-path-'))
  const linked = new Set<string>(programs)
  const folders = path.split(delimiter).filter(Boolean)
  for (const folder of folders.flatMap((f) => (f.endsWith('/bin') ? [f, f.slice(0, -'bin'.length) + 'sbin'] : [f]))) {
    let names: string[]
    try {
      names = readdirSync(folder)
    } catch {
      continue
    }
    for (const name of names) {
      if (linked.has(name)) continue
      linked.add(name)
      symlinkSync(join(folder, name), join(dir, name))
    }
  }
  return { PATH: dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

import type { Reporter, TestModule } from 'vitest/node'
export default class R implements Reporter {
  onTestRunEnd(mods: ReadonlyArray<TestModule>, errs: ReadonlyArray<unknown>, reason: string): void {
    for (const m of mods) {
      console.log('MODULE', m.moduleId, m.state(), JSON.stringify(m.meta()), m.errors().map(e=>e.message))
      for (const t of m.children.allTests()) {
        const r = t.result()
        console.log('TEST', t.fullName, r.state, JSON.stringify(t.meta()), 'note' in r ? r.note : '', t.parent.type, JSON.stringify(t.parent.meta()), t.options.mode)
      }
      for (const s of m.children.allSuites()) console.log('SUITE', s.fullName, s.state(), JSON.stringify(s.meta()), s.errors().map(e=>e.message))
    }
    console.log('ERRS', errs.length, reason)
  }
}

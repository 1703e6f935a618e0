import { describe, expect, it } from 'vitest'
import { sandboxPlan } from '../../../scripts/sandbox.js'

describe('npm start and the Electron sandbox', () => {
  it('launches a normal user with the sandbox on', () => {
    expect(sandboxPlan(1000, {})).toEqual({ refused: null, flags: [] })
    expect(sandboxPlan(undefined, {})).toEqual({ refused: null, flags: [] })
  })

  it('refuses root with a sentence instead of turning the sandbox off', () => {
    const plan = sandboxPlan(0, {})
    expect(plan.flags).toEqual([])
    expect(plan.refused).toMatch(/sandbox cannot run as root\. Start Benchside as a normal user.*BENCHSIDE_ELECTRON_NO_SANDBOX=1/)
  })

  it('runs root without the sandbox only when asked on purpose', () => {
    expect(sandboxPlan(0, { BENCHSIDE_ELECTRON_NO_SANDBOX: '1' })).toEqual({ refused: null, flags: ['--no-sandbox'] })
    expect(sandboxPlan(0, { BENCHSIDE_ELECTRON_NO_SANDBOX: 'yes' }).refused).not.toBeNull()
  })
})

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultAgentSourceDir, firstCompilerErrors, loadAgentSource } from '../../../src-main/hardware/agent-source.ts'

describe('agent source', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'benchside-agent-src-'))
    cpSync(defaultAgentSourceDir(), dir, { recursive: true })
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('versions the agent by content: same bytes, same version; one changed byte, a new version', () => {
    const a = loadAgentSource(dir)
    expect(a.version).toMatch(/^[0-9a-f]{16}$/)
    expect(loadAgentSource(defaultAgentSourceDir()).version).toBe(a.version)
    expect(a.files.map((f) => f.name)).toEqual(expect.arrayContaining(['agent.h', 'agent_main.c', 'build.sh', 'version.txt']))
    expect(
      a.files
        .find((f) => f.name === 'version.txt')!
        .content.toString()
        .trim(),
    ).toBe(a.version)
    writeFileSync(join(dir, 'agent_main.c'), readFileSync(join(dir, 'agent_main.c'), 'utf8') + ' ')
    expect(loadAgentSource(dir).version).not.toBe(a.version)
  })

  it('explains a missing source folder', () => {
    expect(() => loadAgentSource(join(dir, 'nope'))).toThrow(/board agent sources were not found in .*nope/)
  })

  it('keeps the compiler lines that say error', () => {
    const stderr = 'flags: -O3\nagent_ops.c: In function f:\nagent_ops.c:3:9: error: expected expression\n  3 | int x = ;\n'
    expect(firstCompilerErrors(stderr)).toBe('agent_ops.c:3:9: error: expected expression')
    expect(firstCompilerErrors('ld: something odd\n')).toBe('ld: something odd')
  })
})

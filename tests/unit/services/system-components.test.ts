// The optional system packages: one list (resources/system-packages.json) behind the doctor, the test summary, the
// README and CI; programs found on a given PATH as a shell would find them.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findProgram } from '../../../src-main/hardware/find-program.ts'
import { detectComponent, installCommand, installHint, SYSTEM_COMPONENT_IDS, systemComponents } from '../../../src-main/services/system-components.ts'
import { pathWithout, requires } from '../../helpers/components.ts'

const root = fileURLToPath(new URL('../../../', import.meta.url))

describe('findProgram', () => {
  let work: string
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'benchside-find-program-'))
    for (const folder of ['a/bin', 'a/sbin', 'b']) mkdirSync(join(work, folder), { recursive: true })
    const script = (file: string, mode: number) => (writeFileSync(join(work, file), '#!/bin/sh\nexit 0\n'), chmodSync(join(work, file), mode))
    script('a/bin/tool', 0o755)
    script('b/tool', 0o755)
    script('b/plain', 0o644)
    script('a/sbin/daemon', 0o755)
    mkdirSync(join(work, 'b', 'folder-not-program'))
  })
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('takes the first executable file on PATH, in PATH order', () => {
    expect(findProgram('tool', { PATH: [join(work, 'a/bin'), join(work, 'b')].join(':') })).toBe(join(work, 'a/bin/tool'))
    expect(findProgram('tool', { PATH: [join(work, 'b'), join(work, 'a/bin')].join(':') })).toBe(join(work, 'b/tool'))
  })

  it('passes over files that cannot be run, folders, and names not there', () => {
    const env = { PATH: join(work, 'b') }
    expect(findProgram('plain', env)).toBeNull()
    expect(findProgram('folder-not-program', env)).toBeNull()
    expect(findProgram('nothing', env)).toBeNull()
    expect(findProgram('tool', {})).toBeNull()
  })

  it('looks in the sbin beside a bin folder only when asked (daemons live there)', () => {
    const env = { PATH: join(work, 'a/bin') }
    expect(findProgram('daemon', env)).toBeNull()
    expect(findProgram('daemon', env, { sbin: true })).toBe(join(work, 'a/sbin/daemon'))
    expect(findProgram('daemon', { PATH: join(work, 'b') }, { sbin: true })).toBeNull()
  })

  it('checks a path as it is', () => {
    expect(findProgram(join(work, 'b/tool'), { PATH: '' })).toBe(join(work, 'b/tool'))
    expect(findProgram(join(work, 'b/plain'), { PATH: '' })).toBeNull()
  })
})

describe('system components', () => {
  it('are listed once each, every one with a Debian package and what it is needed for', () => {
    const list = systemComponents()
    expect(list.map((c) => c.id)).toEqual([...SYSTEM_COMPONENT_IDS])
    for (const c of list) {
      expect(c.debian.length, c.id).toBeGreaterThan(0)
      expect(c.neededFor.length, c.id).toBeGreaterThan(10)
    }
  })

  it('install with one command per platform, every package in it', () => {
    expect(installCommand('linux')).toBe(
      `sudo apt-get install ${systemComponents()
        .flatMap((c) => c.debian)
        .join(' ')}`,
    )
    expect(installCommand('darwin')).toBe('xcode-select --install; brew install socat espeak-ng && brew install --cask chromium')
    expect(installCommand('win32')).toBeNull()
    expect(installHint('socat', 'linux')).toBe('sudo apt-get install socat')
    expect(installHint('chromium', 'darwin')).toBe('brew install --cask chromium')
    expect(installHint('cc', 'darwin')).toBe('xcode-select --install')
    expect(installHint('fashion-mnist', 'darwin')).toBeNull()
  })

  it('are the ones the README tells people to install, and the ones CI installs', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(readme).toContain(installCommand('linux'))
    expect(readme).toContain(installCommand('darwin'))
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toContain("require('./resources/system-packages.json').components.flatMap((c) => c.debian)")
  })

  it('are judged by the PATH given: a compiler left off PATH is missing, with why', requires('cc'), () => {
    const path = pathWithout(['cc'])
    try {
      expect(detectComponent('cc', { PATH: process.env.PATH })).toMatchObject({ present: true })
      expect(detectComponent('cc', { PATH: path.PATH })).toEqual({ id: 'cc', present: false, path: null, detail: 'cc was not found on PATH' })
      expect(detectComponent('cc', { PATH: path.PATH, CC: 'no-such-compiler' }).detail).toBe('no-such-compiler was not found on PATH')
    } finally {
      path.remove()
    }
  })

  it('name every program of a group that is missing', () => {
    expect(detectComponent('slurm-client', { PATH: '' }).detail).toBe('sinfo, sbatch and squeue were not found on PATH')
    expect(detectComponent('chromium', { PATH: '', BENCHSIDE_CHROMIUM: '/no/such/chromium' }).detail).toBe(
      'BENCHSIDE_CHROMIUM names /no/such/chromium, which does not exist',
    )
  })
})

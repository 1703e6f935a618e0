// The demo board on a machine without socat: PATH holds every program here but socat, the cache folder is empty, and
// the board still connects (Benchside builds its PTY helper on first use) and calibrates, through the app's own API.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Core } from '../../../src-main/core.ts'
import { defaultCacheDir, helperBinaryPath } from '../../../src-main/hardware/emulator/pty-pair.ts'
import { findProgram } from '../../../src-main/hardware/find-program.ts'
import { pathWithout, requires } from '../../helpers/components.ts'
import { jobHarness, type JobHarness } from '../../helpers/job-harness.ts'

describe('the demo board without socat', requires('cc'), () => {
  const saved = { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }
  let path: ReturnType<typeof pathWithout>
  let cache: string
  let harness: JobHarness
  let core: Core

  beforeAll(() => {
    path = pathWithout(['socat'])
    cache = mkdtempSync(join(tmpdir(), 'benchside-cache-'))
    // This file runs in its own process: the PATH and cache folder here are what the demo board sees.
    process.env.PATH = path.PATH
    process.env.XDG_CACHE_HOME = cache
    harness = jobHarness()
    core = harness.core
  })
  afterAll(async () => {
    await core?.analog.closeAll()
    harness?.close()
    process.env.PATH = saved.PATH
    if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME
    else process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME
    path?.remove()
    rmSync(cache, { recursive: true, force: true })
  })

  it('connects and calibrates on a PTY pair Benchside made itself', async () => {
    expect(findProgram('socat')).toBeNull()
    expect(findProgram('cc')).not.toBeNull()
    if (process.platform === 'linux') expect(existsSync(helperBinaryPath(defaultCacheDir()))).toBe(false)

    const status = await core.api.connectAnalogBoard({ port: 'demo' })
    expect(status).toMatchObject({ state: 'connected', kind: 'emulated', deviceId: 'EMU-00000007' })
    expect(core.analog.connection('demo')?.emulator?.pty).toBe('helper')
    expect(existsSync(helperBinaryPath(defaultCacheDir()))).toBe(true)

    const run = await core.api.startJob({ kind: 'analog-calibrate', params: { board: 'demo', repeats: 8 } })
    expect((await harness.finish(run.uuid)).state).toBe('finished')
    const calibration = (await core.api.getAnalogCalibration({ device: 'demo' }))!
    expect(calibration).toMatchObject({ run: run.uuid, deviceId: 'EMU-00000007' })
    expect(calibration.quality.validation.calibrated).toBeLessThan(calibration.quality.validation.nominal)
  }, 240_000)
})

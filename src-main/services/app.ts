// Facts about this Benchside for the About box and 'benchside --version', and the doctor's checks of this computer.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import type { AppInfo } from '../contract/index.ts'
import { appRoot } from '../paths.ts'
import { runDoctor } from './doctor.ts'
import type { HandlersFor } from './handlers.ts'

export const version: string = (() => {
  try {
    // From the installation folder: the built bundle sits at another depth than src-main/services.
    return z.object({ version: z.string() }).parse(JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8'))).version
  } catch {
    return '0.0.0'
  }
})()

export function appHandlers(host: AppInfo['host'], dataDir: string): HandlersFor<'appInfo' | 'doctor'> {
  return {
    appInfo: () => ({ version, host, dataDir, platform: `${process.platform}-${process.arch}`, node: process.versions.node }),
    doctor: () => runDoctor({ host, dataDir }),
  }
}

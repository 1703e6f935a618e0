// Facts about this Benchside for the About box and 'benchside --version'.
import { readFileSync } from 'node:fs'
import type { AppInfo } from '../contract/index.ts'
import type { HandlersFor } from './handlers.ts'

export const version: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    return pkg.version
  } catch {
    return '0.0.0'
  }
})()

export function appHandlers(host: AppInfo['host'], dataDir: string): HandlersFor<'appInfo'> {
  return {
    appInfo: () => ({ version, host, dataDir, platform: `${process.platform}-${process.arch}`, node: process.versions.node }),
  }
}

// Facts about the running Benchside: version, host, where the data lives.
import { z } from 'zod'
import { method } from './define.ts'

export const AppInfo = z.object({
  version: z.string(),
  host: z.enum(['desktop', 'web', 'cli']),
  dataDir: z.string(),
  platform: z.string(),
  node: z.string(),
})
export type AppInfo = z.infer<typeof AppInfo>

export const appMethods = {
  appInfo: method(z.object({}).default({}), AppInfo, 'Version, host kind and data folder of this Benchside.'),
}

export const appEvents = {
  /** Something in the run history changed; views that show runs refresh. */
  runsChanged: z.object({ runUuids: z.array(z.string()) }),
}

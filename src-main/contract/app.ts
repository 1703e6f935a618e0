// Facts about the running Benchside: version, host, where the data lives, and what this computer has and lacks (doctor).
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

/** One line of `benchside doctor`: a piece of the set-up, whether it is here, what lacks without it, and how to get it. */
export const DoctorCheck = z.object({
  id: z.string(),
  label: z.string(),
  status: z.enum(['ok', 'missing', 'warning']),
  /** What was found (versions, paths), or what is wrong. */
  detail: z.string(),
  /** What does not work while this is missing; null when ok. */
  disables: z.string().nullable(),
  /** How to fix it, a command where there is one; null when ok. */
  fix: z.string().nullable(),
  /** Part of the core: without it Benchside cannot start, store runs or compute. */
  core: z.boolean(),
})
export type DoctorCheck = z.infer<typeof DoctorCheck>

export const DoctorReport = z.object({
  checks: z.array(DoctorCheck),
  /** Every core check passed (optional pieces may still be missing). */
  coreWorks: z.boolean(),
  /** The one command that installs every optional system package here; null where there is none (Windows). */
  installCommand: z.string().nullable(),
})
export type DoctorReport = z.infer<typeof DoctorReport>

export const appMethods = {
  appInfo: method(z.object({}).default({}), AppInfo, 'Version, host kind and data folder of this Benchside.'),
  doctor: method(z.object({}).default({}), DoctorReport, 'What this computer has and lacks for Benchside: each piece, what it disables, how to fix it.'),
}

export const appEvents = {
  /** Something in the run history changed; views that show runs refresh. */
  runsChanged: z.object({ runUuids: z.array(z.string()) }),
}

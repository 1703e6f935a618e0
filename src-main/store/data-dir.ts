// Where Benchside keeps its history: BENCHSIDE_HOME, else the platform's per-user application folder; the desktop app, web mode and the CLI all use this one.
import { homedir } from 'node:os'
import { join, posix, resolve, win32 } from 'node:path'

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.BENCHSIDE_HOME) return env.BENCHSIDE_HOME
  const home = homedir()
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Benchside')
  if (platform === 'win32') return join(absoluteOrNull(env.APPDATA, platform) ?? join(home, 'AppData', 'Roaming'), 'Benchside')
  // The XDG spec: an empty or relative XDG_CONFIG_HOME is ignored.
  return join(absoluteOrNull(env.XDG_CONFIG_HOME, platform) ?? join(home, '.config'), 'Benchside')
}

function absoluteOrNull(folder: string | undefined, platform: NodeJS.Platform): string | null {
  if (!folder) return null
  return (platform === 'win32' ? win32.isAbsolute(folder) : posix.isAbsolute(folder)) ? folder : null
}

/** Whether `folder` is the default data folder (the one used without BENCHSIDE_HOME): Benchside's own, not one the user chose. */
export function isDefaultDataDir(folder: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  return resolve(folder) === resolve(defaultDataDir({ ...env, BENCHSIDE_HOME: undefined }, platform))
}

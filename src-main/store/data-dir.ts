// Where Benchside keeps its history: BENCHSIDE_HOME, else the folder Electron calls userData, so the CLI and the app share one history.
import { homedir } from 'node:os'
import { join } from 'node:path'

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.BENCHSIDE_HOME) return env.BENCHSIDE_HOME
  const home = homedir()
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Benchside')
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Benchside')
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Benchside')
}

// Finds a program the way a shell would, on a given PATH: what Benchside can run is judged by the same PATH it runs with.
import { accessSync, constants, statSync } from 'node:fs'
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path'

function executable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The full path of `name` on `env.PATH` (an absolute or relative path is checked as it is), or null. On Windows the
 * PATHEXT endings are tried. With `sbin`, each `…/bin` folder on PATH brings its `…/sbin` sibling: daemons like sshd
 * live there, and a user's PATH often leaves it out.
 */
export function findProgram(name: string, env: NodeJS.ProcessEnv = process.env, options: { sbin?: boolean } = {}): string | null {
  const windows = process.platform === 'win32'
  const endings = windows ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)] : ['']
  if (name.includes('/') || (windows && name.includes('\\'))) {
    for (const ending of endings) if (executable(name + ending)) return isAbsolute(name) ? name + ending : join(process.cwd(), name + ending)
    return null
  }
  const folders = (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean)
  const searched = options.sbin ? folders.flatMap((folder) => (basename(folder) === 'bin' ? [folder, join(dirname(folder), 'sbin')] : [folder])) : folders
  for (const folder of searched) {
    for (const ending of endings) {
      const file = join(folder, name + ending)
      if (executable(file)) return file
    }
  }
  return null
}

// Where the app's own files are: the folder with package.json, found from this module (source tree or build output).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | null = null

export function appRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('Benchside cannot find its installation folder (no package.json above its code).')
    dir = parent
  }
  return (root = dir)
}

export function resourcePath(...parts: string[]): string {
  return join(appRoot(), 'resources', ...parts)
}

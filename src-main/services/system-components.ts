// The optional system packages (resources/system-packages.json, the one list), how to tell whether each is here on a
// given PATH, and the one command that installs them all. Shared by benchside doctor and the test suite's summary.
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { findProgram } from '../hardware/find-program.ts'
import { resourcePath } from '../paths.ts'

export const SYSTEM_COMPONENT_IDS = ['cc', 'socat', 'chromium', 'sshd', 'ssh-keygen', 'espeak-ng', 'fashion-mnist', 'slurm-client', 'slurm-daemons'] as const
export type SystemComponentId = (typeof SYSTEM_COMPONENT_IDS)[number]

const SystemComponentSchema = z.object({
  id: z.enum(SYSTEM_COMPONENT_IDS),
  label: z.string(),
  /** What works only with it, in words. */
  neededFor: z.string(),
  debian: z.array(z.string()),
  homebrew: z.array(z.string()),
  homebrewCask: z.array(z.string()),
  /** macOS: comes with Apple's command line tools (xcode-select --install). */
  xcode: z.boolean(),
})
export type SystemComponent = z.infer<typeof SystemComponentSchema>

/** Debian's dataset-fashion-mnist puts its IDX files here (engine/data/sources.ts reads the same folder). */
export const SYSTEM_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'

let loaded: readonly SystemComponent[] | null = null

export function systemComponents(): readonly SystemComponent[] {
  if (loaded) return loaded
  const file = resourcePath('system-packages.json')
  const parsed = z.object({ components: z.array(SystemComponentSchema) }).safeParse(JSON.parse(readFileSync(file, 'utf8')))
  if (!parsed.success)
    throw new Error(`${file} is not a valid list of system packages (${parsed.error.issues[0]?.message}); the Benchside installation is damaged.`)
  return (loaded = parsed.data.components)
}

export function systemComponent(id: SystemComponentId): SystemComponent {
  const found = systemComponents().find((c) => c.id === id)
  if (!found) throw new Error(`resources/system-packages.json lists no '${id}'; the Benchside installation is damaged.`)
  return found
}

export interface ComponentPresence {
  id: SystemComponentId
  present: boolean
  /** The program or folder found; null when missing. */
  path: string | null
  /** Where it was found, or why it counts as missing, in one sentence. */
  detail: string
}

function programs(id: SystemComponentId, names: string[], env: NodeJS.ProcessEnv, sbin = false): ComponentPresence {
  const found = names.map((name) => findProgram(name, env, { sbin }))
  const missing = names.filter((_, i) => found[i] === null)
  if (missing.length === 0) return { id, present: true, path: found[0]!, detail: `found at ${found.join(', ')}` }
  const where = sbin ? 'PATH or in an sbin folder beside its bin folders' : 'PATH'
  const listed = missing.length > 1 ? `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}` : missing[0]
  return { id, present: false, path: null, detail: `${listed} ${missing.length > 1 ? 'were' : 'was'} not found on ${where}` }
}

function folder(id: SystemComponentId, path: string): ComponentPresence {
  return existsSync(path) ? { id, present: true, path, detail: `found at ${path}` } : { id, present: false, path: null, detail: `${path} does not exist` }
}

/** Whether a component is on this computer, judged by `env.PATH` (and CC, BENCHSIDE_CHROMIUM) as Benchside would run it. */
export function detectComponent(id: SystemComponentId, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ComponentPresence {
  switch (id) {
    case 'cc': {
      const compiler = env.CC?.trim() || 'cc'
      return programs(id, [compiler], env)
    }
    case 'chromium': {
      const chosen = env.BENCHSIDE_CHROMIUM
      if (chosen) {
        return existsSync(chosen)
          ? { id, present: true, path: chosen, detail: `found at ${chosen} (BENCHSIDE_CHROMIUM)` }
          : { id, present: false, path: null, detail: `BENCHSIDE_CHROMIUM names ${chosen}, which does not exist` }
      }
      for (const name of ['chromium', 'chromium-browser']) {
        const path = findProgram(name, env)
        if (path) return { id, present: true, path, detail: `found at ${path}` }
      }
      if (platform === 'darwin') {
        for (const app of ['/Applications', join(homedir(), 'Applications')]) {
          const path = join(app, 'Chromium.app', 'Contents', 'MacOS', 'Chromium')
          if (existsSync(path)) return { id, present: true, path, detail: `found at ${path}` }
        }
      }
      return { id, present: false, path: null, detail: 'chromium was not found on PATH; BENCHSIDE_CHROMIUM can name another copy' }
    }
    case 'sshd':
      return programs(id, ['sshd'], env, true)
    case 'ssh-keygen':
      return programs(id, ['ssh-keygen'], env)
    case 'socat':
    case 'espeak-ng':
      return programs(id, [id], env)
    case 'fashion-mnist':
      return folder(id, SYSTEM_FASHION_MNIST_DIR)
    case 'slurm-client':
      return programs(id, ['sinfo', 'sbatch', 'squeue'], env)
    case 'slurm-daemons':
      return programs(id, ['slurmctld', 'slurmd'], env, true)
  }
}

/** How to install one component here, or null where no package provides it. */
export function installHint(id: SystemComponentId, platform: NodeJS.Platform = process.platform): string | null {
  const c = systemComponent(id)
  if (platform === 'darwin') {
    if (id === 'sshd' || id === 'ssh-keygen') return 'built into macOS (System Settings → General → Sharing → Remote Login for sshd)'
    const steps = [
      ...(c.xcode ? ['xcode-select --install'] : []),
      ...(c.homebrew.length ? [`brew install ${c.homebrew.join(' ')}`] : []),
      ...(c.homebrewCask.length ? [`brew install --cask ${c.homebrewCask.join(' ')}`] : []),
    ]
    return steps.length ? steps.join('; ') : null
  }
  if (platform === 'win32') return null
  return c.debian.length ? `sudo apt-get install ${c.debian.join(' ')}` : null
}

/** The one command that installs every optional system package: Debian/Ubuntu's apt-get, or macOS's Homebrew (null elsewhere). */
export function installCommand(platform: NodeJS.Platform = process.platform): string | null {
  const all = systemComponents()
  if (platform === 'darwin') {
    const formulae = all.flatMap((c) => c.homebrew)
    const casks = all.flatMap((c) => c.homebrewCask)
    const steps = [
      ...(all.some((c) => c.xcode) ? ['xcode-select --install;'] : []),
      ...(formulae.length ? [`brew install ${formulae.join(' ')}`] : []),
      ...(casks.length ? [`${formulae.length ? '&& ' : ''}brew install --cask ${casks.join(' ')}`] : []),
    ]
    return steps.join(' ')
  }
  if (platform === 'win32') return null
  return `sudo apt-get install ${all.flatMap((c) => c.debian).join(' ')}`
}

// Picks the fastest tfjs backend that loads here (tfjs-node, else wasm with Benchside's gradient kernels, else cpu)
// and describes it, so every run can record what it computed on.
import { availableParallelism } from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { registerWasmGradients } from './wasm-gradients.ts'

export type BackendName = 'tensorflow' | 'wasm' | 'cpu'
export type BackendPreference = 'auto' | BackendName

export interface BackendInfo {
  name: BackendName
  /** Version of the package providing the backend. */
  version: string
  /** wasm only: whether the SIMD binary was loaded. */
  simd?: boolean
  /** wasm only: XNNPACK threads actually in use. */
  threads?: number
  /** Set when a faster backend was preferred but could not be used, saying why. */
  fallbackReason?: string
}

const PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu']
const ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

let current: { preference: BackendPreference; info: Promise<BackendInfo> } | undefined

/** The environment variable BENCHSIDE_BACKEND, when set, wins over the preference passed in. */
export function resolvePreference(preference: BackendPreference = 'auto'): BackendPreference {
  const fromEnv = process.env.BENCHSIDE_BACKEND?.trim().toLowerCase()
  if (fromEnv === undefined || fromEnv === '') return preference
  if (!(PREFERENCES as readonly string[]).includes(fromEnv)) {
    throw new Error(`BENCHSIDE_BACKEND is '${process.env.BENCHSIDE_BACKEND}', which is not a backend; set it to one of ${PREFERENCES.join(', ')} or unset it.`)
  }
  return fromEnv as BackendPreference
}

/** Idempotent: repeated calls with the same (resolved) preference share one initialisation. */
export function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  let resolved: BackendPreference
  try {
    resolved = resolvePreference(preference)
  } catch (error) {
    return Promise.reject(error)
  }
  if (current?.preference === resolved) return current.info
  const info = selectBackend(resolved)
  current = { preference: resolved, info }
  info.catch(() => {
    if (current?.info === info) current = undefined
  })
  return info
}

async function selectBackend(preference: BackendPreference): Promise<BackendInfo> {
  const candidates = preference === 'auto' ? ORDER : ORDER.slice(ORDER.indexOf(preference))
  const reasons: string[] = []
  for (const name of candidates) {
    try {
      const info = await tryBackend(name)
      return reasons.length > 0 ? { ...info, fallbackReason: reasons.join('; ') } : info
    } catch (error) {
      reasons.push(`${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`)
    }
  }
  throw new Error(`No tfjs backend could be started (${reasons.join('; ')}). Reinstall Benchside's dependencies.`)
}

async function tryBackend(name: BackendName): Promise<BackendInfo> {
  if (name === 'tensorflow') return tryTensorflow()
  if (name === 'wasm') return tryWasm()
  await activate('cpu')
  return { name: 'cpu', version: tf.version_core }
}

/** tf.setBackend resolves false (and leaves the old backend active) when initialisation fails; turn that into an error. */
async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  if (!ok || tf.getBackend() !== name) throw new Error(`the '${name}' backend failed to initialise`)
  await tf.ready()
}

async function tryTensorflow(): Promise<BackendInfo> {
  // Optional dependency: its install needs internet to fetch libtensorflow, so it is often absent.
  const specifier = '@tensorflow/tfjs-node'
  let tfnode: { version?: string | Record<string, string> }
  try {
    tfnode = (await import(specifier)) as typeof tfnode
  } catch (error) {
    const code = (error as { code?: string }).code
    throw new Error(
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? '@tensorflow/tfjs-node is not installed'
        : `@tensorflow/tfjs-node did not load (${(error as Error).message.split('\n')[0]})`,
    )
  }
  await activate('tensorflow')
  const version = typeof tfnode.version === 'string' ? tfnode.version : tfnode.version?.['tfjs-node']
  return { name: 'tensorflow', version: version ?? tf.version_core }
}

async function tryWasm(): Promise<BackendInfo> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  registerWasmGradients()
  // Only the threaded binary uses this; Node gets the single-threaded SIMD one (tfjs reports no thread support in Node).
  if (tf.findBackend('wasm') === null) wasm.setThreadsCount(Math.max(1, availableParallelism()))
  await activate('wasm')
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
  return { name: 'wasm', version: wasm.version_wasm, simd, threads: wasm.getThreadsCount() }
}

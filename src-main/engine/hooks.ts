// Several hook sets acting on one network at once (quantization and noise, say): `after` hooks on the same point run
// in the order given, compute overrides may not overlap, variables are pooled.
import type { Hooks, PointHook } from './network.ts'

export function combineHooks(...parts: readonly (Hooks | undefined)[]): Hooks | undefined {
  const present = parts.filter((p): p is Hooks => p !== undefined)
  if (present.length <= 1) return present[0]
  const after = new Map<string, PointHook>()
  const compute = new Map<string, NonNullable<Hooks['compute']> extends ReadonlyMap<string, infer C> ? C : never>()
  const variables = new Map<string, NonNullable<Hooks['variables']> extends ReadonlyMap<string, infer V> ? V : never>()
  for (const hooks of present) {
    for (const [id, hook] of hooks.after ?? []) {
      const before = after.get(id)
      after.set(id, before ? (value, point, training) => hook(before(value, point, training), point, training) : hook)
    }
    for (const [id, override] of hooks.compute ?? []) {
      if (compute.has(id)) throw new Error(`Two hook sets both replace how '${id}' computes; only one may.`)
      compute.set(id, override)
    }
    for (const [id, variable] of hooks.variables ?? []) variables.set(id, variable)
  }
  return { after, compute, variables }
}

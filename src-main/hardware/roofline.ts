// Roofline analysis, pure: from measured peak ops/s and per-level bandwidths, where each operator sits —
// the ceiling at its arithmetic intensity, the fraction of it reached, and whether compute or a memory level binds.

export interface MemoryCeiling {
  /** e.g. "L1", "L2", "DRAM". */
  level: string
  bytesPerSecond: number
  /** Capacity of the level; an operator whose working set fits is served from it. */
  capacityBytes?: number
}

export interface Ceilings {
  peakOpsPerSecond: number
  /** Any order; levels are sorted by capacity (unknown capacity last) to find where a working set fits. */
  memory: readonly MemoryCeiling[]
}

export interface OperatorPoint {
  name: string
  ops: number
  /** Bytes moved under the agent's byte model (see its byte_model field). */
  bytes: number
  seconds: number
  /** Picks the level by capacity when memoryLevel is not given. */
  workingSetBytes?: number
  /** Forces the memory level the operator is judged against. */
  memoryLevel?: string
}

export interface LevelVerdict {
  level: string
  /** min(peak, intensity x bandwidth of this level). */
  ceilingOpsPerSecond: number
  fractionOfCeiling: number
  binding: 'compute' | 'memory'
}

export interface OperatorRoofline {
  name: string
  intensity: number
  achievedOpsPerSecond: number
  /** The memory level the operator's data comes from. */
  memoryLevel: string
  ceilingOpsPerSecond: number
  fractionOfCeiling: number
  /** "compute" when the peak is the lower ceiling, else the memory level's name. */
  binding: string
  perLevel: LevelVerdict[]
}

export interface RidgePoint {
  level: string
  /** Ops per byte where the level's bandwidth line meets the compute peak. */
  intensity: number
}

function requirePositive(value: number, what: string): void {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`${what} must be a positive number, got ${value}.`)
}

function validate(ceilings: Ceilings): void {
  requirePositive(ceilings.peakOpsPerSecond, 'The peak ops per second')
  if (ceilings.memory.length === 0) throw new Error('The roofline needs at least one memory bandwidth (for example L1 or DRAM).')
  for (const m of ceilings.memory) requirePositive(m.bytesPerSecond, `The bandwidth of ${m.level}`)
}

export function ridgePoints(ceilings: Ceilings): RidgePoint[] {
  validate(ceilings)
  return ceilings.memory.map((m) => ({ level: m.level, intensity: ceilings.peakOpsPerSecond / m.bytesPerSecond }))
}

export function ceilingAt(ceilings: Ceilings, level: MemoryCeiling, intensity: number): number {
  return Math.min(ceilings.peakOpsPerSecond, intensity * level.bytesPerSecond)
}

/** The level an operator is judged against: forced, else the smallest that holds its working set, else the slowest. */
function levelFor(ceilings: Ceilings, op: OperatorPoint): MemoryCeiling {
  if (op.memoryLevel !== undefined) {
    const forced = ceilings.memory.find((m) => m.level === op.memoryLevel)
    if (!forced) throw new Error(`Operator ${op.name} names memory level ${op.memoryLevel}, which has no measured bandwidth.`)
    return forced
  }
  if (op.workingSetBytes !== undefined) {
    const bySize = [...ceilings.memory].sort((a, b) => (a.capacityBytes ?? Infinity) - (b.capacityBytes ?? Infinity))
    const fits = bySize.find((m) => m.capacityBytes === undefined || op.workingSetBytes! <= m.capacityBytes)
    if (fits) return fits
  }
  // Without a size, the slowest level gives the classic (DRAM) roofline.
  return ceilings.memory.reduce((a, b) => (b.bytesPerSecond < a.bytesPerSecond ? b : a))
}

export function roofline(ceilings: Ceilings, operators: readonly OperatorPoint[]): OperatorRoofline[] {
  validate(ceilings)
  return operators.map((op) => {
    requirePositive(op.ops, `The ops of ${op.name}`)
    requirePositive(op.bytes, `The bytes of ${op.name}`)
    requirePositive(op.seconds, `The time of ${op.name}`)
    const intensity = op.ops / op.bytes
    const achieved = op.ops / op.seconds
    const perLevel = ceilings.memory.map((m): LevelVerdict => {
      const ceiling = ceilingAt(ceilings, m, intensity)
      return {
        level: m.level,
        ceilingOpsPerSecond: ceiling,
        fractionOfCeiling: achieved / ceiling,
        binding: ceiling < ceilings.peakOpsPerSecond ? 'memory' : 'compute',
      }
    })
    const level = levelFor(ceilings, op)
    const verdict = perLevel.find((v) => v.level === level.level)!
    return {
      name: op.name,
      intensity,
      achievedOpsPerSecond: achieved,
      memoryLevel: level.level,
      ceilingOpsPerSecond: verdict.ceilingOpsPerSecond,
      fractionOfCeiling: verdict.fractionOfCeiling,
      binding: verdict.binding === 'compute' ? 'compute' : level.level,
      perLevel,
    }
  })
}

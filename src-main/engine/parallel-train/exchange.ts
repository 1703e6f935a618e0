// Shared memory between the training workers: a barrier (Atomics), an all-gather of small float64 vectors (batch-norm
// statistics) and an exchange of the float32 gradients. Both data areas are double-buffered: call k+2 writes where
// call k was read, and every worker has passed the barrier of call k+1 (so finished reading k) before anyone gets there.

const GENERATION = 0
const ARRIVED = 1
const ABORTED = 2
/** Spins this often before sleeping: a short wait on a free core is far cheaper than a futex round trip. */
const SPINS = 4000

export interface ExchangeBuffers {
  workers: number
  control: SharedArrayBuffer
  /** [2][workers][statsLength] float64. */
  stats: SharedArrayBuffer
  statsLength: number
  /** [2][workers][gradientLength] float32. */
  gradients: SharedArrayBuffer
  gradientLength: number
}

export class AbortedError extends Error {
  constructor() {
    super('Training was stopped.')
  }
}

export function createExchange(workers: number, statsLength: number, gradientLength: number): ExchangeBuffers {
  return {
    workers,
    control: new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT),
    stats: new SharedArrayBuffer(2 * workers * Math.max(1, statsLength) * Float64Array.BYTES_PER_ELEMENT),
    statsLength: Math.max(1, statsLength),
    gradients: new SharedArrayBuffer(2 * workers * Math.max(1, gradientLength) * Float32Array.BYTES_PER_ELEMENT),
    gradientLength: Math.max(1, gradientLength),
  }
}

/** Wakes every waiting worker and makes their barriers throw: for cancel and for a worker that died. */
export function abortExchange(buffers: ExchangeBuffers): void {
  const control = new Int32Array(buffers.control)
  Atomics.store(control, ABORTED, 1)
  Atomics.add(control, GENERATION, 1)
  Atomics.notify(control, GENERATION)
}

export class Exchange {
  private readonly control: Int32Array
  private readonly stats: Float64Array
  private readonly gradients: Float32Array
  private statsParity = 0
  private gradientParity = 0

  constructor(
    private readonly buffers: ExchangeBuffers,
    readonly rank: number,
  ) {
    this.control = new Int32Array(buffers.control)
    this.stats = new Float64Array(buffers.stats)
    this.gradients = new Float32Array(buffers.gradients)
  }

  get workers(): number {
    return this.buffers.workers
  }

  get aborted(): boolean {
    return Atomics.load(this.control, ABORTED) !== 0
  }

  barrier(): void {
    const c = this.control
    const generation = Atomics.load(c, GENERATION)
    if (this.aborted) throw new AbortedError()
    if (Atomics.add(c, ARRIVED, 1) === this.workers - 1) {
      Atomics.store(c, ARRIVED, 0)
      Atomics.add(c, GENERATION, 1)
      Atomics.notify(c, GENERATION)
    } else {
      for (let spin = 0; Atomics.load(c, GENERATION) === generation; spin++) {
        if (spin > SPINS) Atomics.wait(c, GENERATION, generation, 100)
      }
    }
    if (this.aborted) throw new AbortedError()
  }

  /** Every worker's `local` (same length everywhere), in worker order; valid until this worker's next-but-one call. */
  allGather(local: ArrayLike<number>): Float64Array[] {
    const { statsLength: length, workers } = this.buffers
    if (local.length > length) throw new Error(`A statistics vector of ${local.length} values exceeds the shared area (${length}).`)
    const base = this.statsParity * workers * length
    this.stats.set(local, base + this.rank * length)
    this.barrier()
    this.statsParity ^= 1
    return Array.from({ length: workers }, (_, r) => this.stats.subarray(base + r * length, base + r * length + local.length))
  }

  /** This worker's gradient slot for the coming exchange: write every variable's gradient at its offset. */
  gradientSlot(): Float32Array {
    const { gradientLength: length, workers } = this.buffers
    const base = this.gradientParity * workers * length
    return this.gradients.subarray(base + this.rank * length, base + (this.rank + 1) * length)
  }

  /** Waits for every worker's gradients; returns the slots in worker order (then flips to the other buffer). */
  exchangeGradients(): Float32Array[] {
    const { gradientLength: length, workers } = this.buffers
    const base = this.gradientParity * workers * length
    this.barrier()
    this.gradientParity ^= 1
    return Array.from({ length: workers }, (_, r) => this.gradients.subarray(base + r * length, base + (r + 1) * length))
  }
}

// Simulated against measured layer outputs, accumulated batch by batch: RMS error and correlation of each simulated
// variant, the measured outputs' mean and spread, and a uniform sample of triples for a scatter plot.
import { seededRandom } from './random.ts'

interface Moments {
  n: number
  sumX: number
  sumY: number
  sumXX: number
  sumYY: number
  sumXY: number
  sumSq: number
}

const empty = (): Moments => ({ n: 0, sumX: 0, sumY: 0, sumXX: 0, sumYY: 0, sumXY: 0, sumSq: 0 })

function add(m: Moments, x: number, y: number): void {
  m.n++
  m.sumX += x
  m.sumY += y
  m.sumXX += x * x
  m.sumYY += y * y
  m.sumXY += x * y
  m.sumSq += (x - y) ** 2
}

function summary(m: Moments): { rms: number; correlation: number } {
  const cov = m.sumXY / m.n - (m.sumX / m.n) * (m.sumY / m.n)
  const vx = m.sumXX / m.n - (m.sumX / m.n) ** 2
  const vy = m.sumYY / m.n - (m.sumY / m.n) ** 2
  return { rms: m.n ? Math.sqrt(m.sumSq / m.n) : 0, correlation: vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : 0 }
}

export class LayerComparison {
  private readonly ordered = empty()
  private readonly associative = empty()
  private readonly scatter: [number, number, number][] = []
  private seen = 0

  // Reservoir sampling with a fixed seed: the scatter is a uniform sample of the whole run, the same every time.
  private readonly random = seededRandom(1)

  constructor(
    readonly layer: string,
    readonly label: string,
    readonly outputs: number,
    private readonly scatterSize = 300,
  ) {}

  add(ordered: ArrayLike<number>, associative: ArrayLike<number>, measured: ArrayLike<number>): void {
    for (let i = 0; i < measured.length; i++) {
      add(this.ordered, ordered[i]!, measured[i]!)
      add(this.associative, associative[i]!, measured[i]!)
      const triple: [number, number, number] = [ordered[i]!, associative[i]!, measured[i]!]
      if (this.scatter.length < this.scatterSize) this.scatter.push(triple)
      else {
        const slot = Math.floor(this.random() * (this.seen + 1))
        if (slot < this.scatterSize) this.scatter[slot] = triple
      }
      this.seen++
    }
  }

  result() {
    const m = this.ordered
    const mean = m.n ? m.sumY / m.n : 0
    return {
      layer: this.layer,
      label: this.label,
      outputs: this.outputs,
      measured: { mean, std: m.n ? Math.sqrt(Math.max(0, m.sumYY / m.n - mean * mean)) : 0 },
      ordered: summary(this.ordered),
      associative: summary(this.associative),
      scatter: this.scatter,
    }
  }
}

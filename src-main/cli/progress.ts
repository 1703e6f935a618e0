// A one-line progress bar on a terminal; plain lines at each tenth when output goes to a file or pipe.
import type { JobProgress } from '../contract/index.ts'
import { formatDuration } from './output.ts'

export class ProgressLine {
  private lastTenth = -1
  private readonly tty = process.stderr.isTTY === true

  update(p: JobProgress): void {
    const percent = Math.floor(p.fraction * 100)
    const text = `${p.phase}${p.message ? ': ' + p.message : ''}`
    if (this.tty) {
      const width = 30
      const filled = Math.round(p.fraction * width)
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}%  ETA ${formatDuration(p.etaSeconds)}  ${text}`
      process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 100) - 1).padEnd((process.stderr.columns ?? 100) - 1)}`)
    } else if (Math.floor(percent / 10) > this.lastTenth) {
      this.lastTenth = Math.floor(percent / 10)
      process.stderr.write(`${String(percent).padStart(3)}%  ${text}\n`)
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n')
  }
}

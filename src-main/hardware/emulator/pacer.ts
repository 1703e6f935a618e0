// Paces bytes to a UART's rate (10 bits per byte), so a throttled link can be emulated on a PTY that is far faster.

export class Pacer {
  private readonly bytesPerMs: number
  /** When the link finishes the bytes already taken, in performance.now() milliseconds. */
  private busyUntil = 0

  constructor(baud: number) {
    this.bytesPerMs = baud / 10 / 1000
  }

  /** Resolves when `bytes` more bytes would have crossed the link. */
  take(bytes: number): Promise<void> {
    const now = performance.now()
    this.busyUntil = Math.max(now, this.busyUntil) + bytes / this.bytesPerMs
    const wait = this.busyUntil - now
    return wait < 1 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait))
  }

  /** About 5 ms of link time: the size of the slices a paced writer sends. */
  get slice(): number {
    return Math.max(1, Math.round(this.bytesPerMs * 5))
  }
}

// Paces bytes to a UART's rate (10 bits per byte), so a throttled link can be emulated on a PTY that is far faster.

/** Lateness of a timer (or of the work between two slices) that the next slice makes up, so the rate holds under load. */
const CATCH_UP_MS = 5

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
    // Bytes right after the last ones follow on from them even when this call comes a little late; after an idle
    // line they start now (no credit for the idle time).
    const start = this.busyUntil >= now - CATCH_UP_MS ? this.busyUntil : now
    this.busyUntil = start + bytes / this.bytesPerMs
    const wait = this.busyUntil - now
    return wait < 1 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait))
  }

  /** About 5 ms of link time: the size of the slices a paced reader or writer moves at once. */
  get slice(): number {
    return Math.max(1, Math.round(this.bytesPerMs * 5))
  }
}

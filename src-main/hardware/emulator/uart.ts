// The emulated board's UART: full duplex, like one with DMA. Requests are received and executed while earlier answers
// are still going out; answers leave in request order. With a baud rate each direction is paced on its own.
import { FrameDecoder, type Decoded } from '../analog-protocol/index.ts'
import { Pacer } from './pacer.ts'

export interface UartOptions {
  /** Paces each direction to baud/10 bytes per second; null moves bytes as fast as the PTY takes them. */
  baud: number | null
  /** The firmware: the answer frame for one decoded request. */
  answer(decoded: Decoded): Uint8Array
  /** Writes bytes to the line; resolves once all of them are written. */
  write(bytes: Uint8Array): Promise<void>
  /** Called once with what went wrong in the firmware or on the line; the UART stops. */
  fail(error: unknown): void
}

/** Received bytes not yet taken off the line; beyond this, reading pauses (the PTY holds the rest, as flow control would). */
const RECEIVE_BUFFER = 8192
/** Answers waiting to go out (the one being sent included); beyond this, requests wait to be executed. */
const SEND_QUEUE = 8

export class Uart {
  private readonly decoder = new FrameDecoder()
  private readonly receivePacer: Pacer | null
  private readonly transmitPacer: Pacer | null
  private readonly inbox: Uint8Array[] = []
  private inboxBytes = 0
  private readonly outbox: Uint8Array[] = []
  private receiving = false
  private sending = false
  private stopped = false
  /** Resolves when the sender finishes an answer, while the receiver waits for room in the send queue. */
  private room: (() => void) | null = null
  /** Called when the receive buffer has room again after receive() answered false. */
  onRoom: () => void = () => {}

  constructor(private readonly options: UartOptions) {
    this.receivePacer = options.baud === null ? null : new Pacer(options.baud)
    this.transmitPacer = options.baud === null ? null : new Pacer(options.baud)
  }

  /** Bytes that reached the device. False when the receive buffer is full: stop reading until onRoom. */
  receive(chunk: Uint8Array): boolean {
    if (this.stopped) return true
    this.inbox.push(chunk)
    this.inboxBytes += chunk.length
    this.start(this.receiveLoop())
    return this.inboxBytes < RECEIVE_BUFFER
  }

  private start(loop: Promise<void>): void {
    loop.catch((error: unknown) => {
      if (this.stopped) return
      this.stopped = true
      this.options.fail(error)
    })
  }

  /** Takes bytes off the line a slice at a time (each slice after its time on the wire) and executes what completes. */
  private async receiveLoop(): Promise<void> {
    if (this.receiving) return
    this.receiving = true
    try {
      while (!this.stopped) {
        const chunk = this.inbox[0]
        if (chunk === undefined) break
        const size = this.receivePacer ? Math.min(chunk.length, this.receivePacer.slice) : chunk.length
        const slice = chunk.subarray(0, size)
        if (size === chunk.length) this.inbox.shift()
        else this.inbox[0] = chunk.subarray(size)
        if (this.receivePacer) await this.receivePacer.take(size)
        const wasFull = this.inboxBytes >= RECEIVE_BUFFER
        this.inboxBytes -= size
        if (wasFull && this.inboxBytes < RECEIVE_BUFFER) this.onRoom()
        for (const decoded of this.decoder.push(slice)) {
          this.outbox.push(this.options.answer(decoded))
          this.start(this.sendLoop())
        }
        // A device has memory for a few answers only: while they wait to go out, it executes nothing more.
        while (this.outbox.length >= SEND_QUEUE && !this.stopped) await new Promise<void>((resolve) => (this.room = resolve))
      }
    } finally {
      this.receiving = false
    }
  }

  /** Sends the queued answers in order, in slices paced to the line's rate. */
  private async sendLoop(): Promise<void> {
    if (this.sending) return
    this.sending = true
    try {
      while (!this.stopped) {
        const bytes = this.outbox[0]
        if (bytes === undefined) break
        const slice = this.transmitPacer ? this.transmitPacer.slice : bytes.length
        for (let at = 0; at < bytes.length; at += slice) {
          const end = Math.min(bytes.length, at + slice)
          if (this.transmitPacer) await this.transmitPacer.take(end - at)
          await this.options.write(bytes.subarray(at, end))
        }
        this.outbox.shift()
        this.room?.()
        this.room = null
      }
    } finally {
      this.sending = false
    }
  }
}

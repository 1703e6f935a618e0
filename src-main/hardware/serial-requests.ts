// Requests and answers on one open link (docs/analog-board-protocol.md, section 5): sequence numbers, per-request
// timeouts, resends on timeout or corruption, BUSY waits, and up to 8 requests in flight.
import { randomInt } from 'node:crypto'
import { encodeFrame, FrameDecoder, frameBytes, type Message, type ProtocolError } from './analog-protocol/index.ts'
import { BoardError } from './board.ts'
import { deviceError, seconds, versionError, wrongAnswer } from './serial-errors.ts'
import type { Link } from './serial-link.ts'

/**
 * A seq source for one board. A random start, kept across reconnects, so a board that still remembers an earlier
 * session's frames (same seq, same bytes) does not answer a new request from its history.
 */
export function sequenceNumbers(): () => number {
  let seq = randomInt(0, 0xffff)
  // 0xFFFF is reserved for the board's errors about frames whose seq it could not read.
  return () => (seq = (seq + 1) % 0xffff)
}

export interface ExchangeSettings {
  label: string
  baudRate: number
  timeoutMs: number
  retries: number
}

export interface RequestOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** The answer's payload size, so the wait allows for its time on the wire. */
  answerPayload?: number
}

interface Pending {
  seq: number
  message: Message
  expect: Message['type']
  bytes: Uint8Array
  answerBytes: number
  timeoutMs: number
  sends: number
  busyAnswers: number
  settle(answer: Message | BoardError): void
}

// Corruption on the line (a flipped bit, a lost byte or delimiter); the other reasons mean the two sides disagree.
const LINE_NOISE: ReadonlySet<ProtocolError['reason']> = new Set(['crc', 'cobs', 'truncated', 'oversized'])
const DEFAULT_ANSWER_PAYLOAD = 64
const BUSY_WAIT_MS = 20
const BUSY_TRIES = 50
/** A lone delimiter ends any half-received frame at the board. */
const FLUSH = Uint8Array.of(0)

/**
 * The requests of one open link. The board answers in the order requests reach it, so `pending` is kept in that order
 * (a resent request moves to its end) and a broken answer or a BAD_CRC always concerns the first entry. Callers keep
 * at most 8 requests in flight (the board's answer history), so every resend is answered from that history.
 */
export class Exchange {
  private readonly decoder = new FrameDecoder()
  private readonly pending = new Map<number, Pending>()
  private watchdog: NodeJS.Timeout | null = null
  private lost: BoardError | null = null
  /** Intact frames that answered no waiting request (late, cancelled, or never asked for). */
  private unsolicited = 0
  /** Told once when the link closed or the board stopped answering; every waiting request has failed by then. */
  onLost: (error: BoardError) => void = () => {}

  constructor(
    private readonly link: Link,
    private readonly settings: ExchangeSettings,
    private readonly nextSeq: () => number,
  ) {
    link.onData((chunk) => this.receive(chunk))
    link.onClose((error) =>
      this.lose(
        new BoardError('UNREACHABLE', `The serial port ${settings.label} closed${error ? ` (${error.message})` : ''}. Check the cable, then reconnect.`),
      ),
    )
    this.write(FLUSH)
  }

  request(message: Message, expect: Message['type'], options: RequestOptions = {}): Promise<Message> {
    if (this.lost) return Promise.reject(this.lost)
    const { signal } = options
    return new Promise<Message>((resolve, reject) => {
      const cancelled = () => new BoardError('CANCELLED', `The '${message.type}' request to the board on ${this.settings.label} was cancelled.`)
      if (signal?.aborted) return reject(cancelled())
      const seq = this.nextSeq()
      const onAbort = () => {
        if (this.pending.get(pending.seq) === pending) this.pending.delete(pending.seq)
        pending.settle(cancelled())
      }
      const pending: Pending = {
        seq,
        message,
        expect,
        bytes: encodeFrame({ seq, message }),
        answerBytes: frameBytes(options.answerPayload ?? DEFAULT_ANSWER_PAYLOAD),
        timeoutMs: options.timeoutMs ?? this.settings.timeoutMs,
        sends: 0,
        busyAnswers: 0,
        settle: (answer) => {
          signal?.removeEventListener('abort', onAbort)
          if (answer instanceof BoardError) reject(answer)
          else resolve(answer)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.send(pending)
    })
  }

  /** Fails every waiting request with `error` and stops listening; the board decides what to do with the link. */
  lose(error: BoardError): void {
    if (this.lost) return
    this.lost = error
    this.stopWatchdog()
    const waiting = [...this.pending.values()]
    this.pending.clear()
    this.decoder.reset()
    for (const pending of waiting) pending.settle(error)
    this.onLost(error)
  }

  private write(bytes: Uint8Array): void {
    this.link
      .write(bytes)
      .catch((error: Error) =>
        this.lose(
          new BoardError('UNREACHABLE', `Writing to the serial port ${this.settings.label} failed (${error.message}). Check the cable, then reconnect.`),
        ),
      )
  }

  /** (Re)sends under the same seq; the request moves to the end of the board's queue. */
  private send(pending: Pending, counts = true): void {
    if (this.lost) return
    if (counts) pending.sends++
    this.pending.delete(pending.seq)
    this.pending.set(pending.seq, pending)
    if (!this.watchdog) this.armWatchdog()
    this.write(pending.bytes)
  }

  private settle(pending: Pending, answer: Message | BoardError): void {
    this.pending.delete(pending.seq)
    pending.settle(answer)
    this.armWatchdog()
  }

  private oldest(): Pending | undefined {
    return this.pending.values().next().value
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog)
    this.watchdog = null
  }

  /** (Re)starts the wait for the oldest request: its timeout plus 1.5× the wire time of everything in flight. */
  private armWatchdog(): void {
    this.stopWatchdog()
    const oldest = this.oldest()
    if (!oldest || this.lost) return
    let bytes = 0
    for (const pending of this.pending.values()) bytes += pending.bytes.length + pending.answerBytes
    const wireMs = (1.5 * bytes * 10 * 1000) / this.settings.baudRate
    this.watchdog = setTimeout(() => this.expire(), oldest.timeoutMs + wireMs)
  }

  private expire(): void {
    this.watchdog = null
    const oldest = this.oldest()
    if (!oldest) return
    if (oldest.sends > this.settings.retries) {
      this.lose(
        new BoardError(
          'TIMEOUT',
          `The board on ${this.settings.label} did not answer '${oldest.message.type}' (sent ${oldest.sends} times, ${seconds(oldest.timeoutMs)} s each). ` +
            (this.unsolicited > 0 ? `Meanwhile it sent ${this.unsolicited} frame(s) that answered nothing asked; its firmware may be misbehaving. ` : '') +
            'Check the cable and that the board is powered, then reconnect.',
        ),
      )
      return
    }
    // Everything in flight goes again, in order, same seqs: what the board did execute it answers from its history.
    this.write(FLUSH)
    for (const pending of [...this.pending.values()]) this.send(pending)
    this.armWatchdog()
  }

  private receive(chunk: Uint8Array): void {
    for (const decoded of this.decoder.push(chunk)) {
      if (this.lost) return
      if (decoded.ok) this.answer(decoded.frame.seq, decoded.frame.message)
      else this.unreadable(decoded.error, decoded.seq)
    }
  }

  private answer(seq: number, message: Message): void {
    if (message.type === 'error' && message.code === 'BAD_CRC') {
      // Its seq may be corrupted or 0xFFFF; the broken request is the first the board has not answered.
      const oldest = this.oldest()
      if (!oldest) return
      this.armWatchdog()
      return this.retry(oldest, 'reached the board corrupted')
    }
    const pending = this.pending.get(seq)
    // A late answer to an earlier try, the answer to a cancelled request, or a frame nobody asked for. None of them
    // answers what is waiting, so none extends its deadline: a chatty board must not keep a request waiting forever.
    if (!pending) {
      this.unsolicited++
      return
    }
    // The board answered this request: everything still waiting gets a fresh wait from here.
    this.armWatchdog()
    if (message.type === 'error' && message.code === 'BUSY') return this.busy(pending)
    if (message.type !== 'error' && message.type !== pending.expect) {
      return this.settle(pending, wrongAnswer(this.settings.label, pending.message.type, `'${message.type}'`))
    }
    this.settle(pending, message)
  }

  private busy(pending: Pending): void {
    if (++pending.busyAnswers > BUSY_TRIES) {
      return this.settle(pending, deviceError(this.settings.label, pending.message.type, 'BUSY', `busy ${BUSY_TRIES} times in a row`, null))
    }
    // BUSY answers are not remembered by the board, so the resend is executed afresh.
    setTimeout(() => {
      if (this.pending.get(pending.seq) === pending) this.send(pending, false)
    }, BUSY_WAIT_MS)
  }

  private unreadable(error: ProtocolError, seq: number | null): void {
    const oldest = this.oldest()
    if (LINE_NOISE.has(error.reason)) {
      if (oldest) this.retry(oldest, `was answered with a corrupted frame (${error.message})`)
      return
    }
    // An intact frame Benchside cannot understand: the two sides disagree, resending will not help.
    const pending = (seq !== null ? this.pending.get(seq) : undefined) ?? oldest
    if (!pending) return
    this.settle(
      pending,
      error.reason === 'version'
        ? versionError(this.settings.label, null, error.message)
        : new BoardError(
            'PROTOCOL',
            `The board on ${this.settings.label} answered '${pending.message.type}' with a frame Benchside cannot read (${error.message}). Benchside and the board's firmware may not match; update one of them.`,
          ),
    )
  }

  private retry(pending: Pending, what: string): void {
    if (pending.sends <= this.settings.retries) return this.send(pending)
    this.settle(
      pending,
      new BoardError(
        'PROTOCOL',
        `The '${pending.message.type}' request to the board on ${this.settings.label} ${what}, ${pending.sends} times in a row. ` +
          'The link corrupts data: check the cable, its shielding and that both sides use the same baud rate.',
      ),
    )
  }
}

// What the serial board driver says when something fails: device refusals (ERROR answers), a foreign protocol
// version and unexpected answers, each as a BoardError with a hint at what to do.
import { PROTOCOL_VERSION, type DeviceErrorCode, type DeviceInfo } from './analog-protocol/index.ts'
import { BoardError } from './board.ts'

// Codes that mean the request was wrong for this board (the caller can fix it); the rest mean the two sides disagree.
const REQUEST_CODES: ReadonlySet<DeviceErrorCode> = new Set(['BAD_SLOT', 'BAD_SHAPE', 'OUT_OF_RANGE', 'TOO_LARGE', 'NOT_LOADED', 'UNSUPPORTED'])

function hintFor(code: DeviceErrorCode, info: DeviceInfo | null): string {
  switch (code) {
    case 'BAD_SLOT':
      return info ? `Use a slot from 0 to ${info.slots - 1}.` : 'Use a slot the board has.'
    case 'BAD_SHAPE':
      return info ? `Check the rows and columns against the board's ${info.rows}×${info.cols} array.` : 'Check the rows and columns.'
    case 'OUT_OF_RANGE':
      return "Check the value against the board's limits."
    case 'TOO_LARGE':
      return 'Send smaller requests.'
    case 'NOT_LOADED':
      return 'Load the weights into this slot first; a board that restarted (after an unplug or a crash) has lost them.'
    case 'UNSUPPORTED':
      return "This board's firmware does not support it."
    case 'BUSY':
      return 'Wait until the board has finished and try again.'
    case 'BAD_CRC':
      return 'The link corrupts data: check the cable and the baud rate.'
    default:
      return "Benchside and the board's firmware may not match; update one of them."
  }
}

export function deviceError(label: string, request: string, code: DeviceErrorCode, message: string, info: DeviceInfo | null): BoardError {
  const reason = REQUEST_CODES.has(code) ? 'AGENT' : code === 'BUSY' ? 'BUSY' : 'PROTOCOL'
  const said = message.trim() ? `: ${message.trim().replace(/\.$/, '')}` : ''
  return new BoardError(reason, `The board on ${label} refused '${request}' (${code})${said}. ${hintFor(code, info)}`)
}

export function versionError(label: string, version: number | null, detail?: string): BoardError {
  const speaks = version === null ? 'another protocol version' : `protocol version ${version}`
  return new BoardError(
    'PROTOCOL',
    `The board on ${label} speaks ${speaks}${detail ? ` (${detail})` : ''}; this Benchside speaks version ${PROTOCOL_VERSION}. ` +
      "Update the board's firmware or Benchside so that they match.",
  )
}

export function wrongAnswer(label: string, request: string, detail: string): BoardError {
  return new BoardError(
    'WRONG_ANSWER',
    `The board on ${label} answered '${request}' with ${detail}. The firmware may be faulty; reset the board and try again.`,
  )
}

/** Milliseconds as seconds with one decimal, for messages. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1)
}

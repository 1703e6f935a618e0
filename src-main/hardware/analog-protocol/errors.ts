// Failures of the analog-board protocol: what this side could not decode (ProtocolError) and the codes a device answers with.

export type ProtocolErrorReason = 'crc' | 'cobs' | 'truncated' | 'oversized' | 'unknown-type' | 'malformed' | 'version'

/** A frame or message this side could not encode or decode; `seq` is set when the frame header was readable. */
export class ProtocolError extends Error {
  readonly reason: ProtocolErrorReason
  readonly seq: number | null
  constructor(reason: ProtocolErrorReason, message: string, seq: number | null = null) {
    super(message)
    this.name = 'ProtocolError'
    this.reason = reason
    this.seq = seq
  }
}

export type DeviceErrorCode =
  | 'BAD_CRC'
  | 'MALFORMED'
  | 'UNKNOWN_TYPE'
  | 'BAD_SLOT'
  | 'BAD_SHAPE'
  | 'OUT_OF_RANGE'
  | 'BUSY'
  | 'TOO_LARGE'
  | 'NOT_LOADED'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED'

/** The wire value of each device error code (docs/analog-board-protocol.md, "Error codes"). */
export const DEVICE_ERROR_CODES: Readonly<Record<DeviceErrorCode, number>> = {
  BAD_CRC: 1,
  MALFORMED: 2,
  UNKNOWN_TYPE: 3,
  BAD_SLOT: 4,
  BAD_SHAPE: 5,
  OUT_OF_RANGE: 6,
  BUSY: 7,
  TOO_LARGE: 8,
  NOT_LOADED: 9,
  UNSUPPORTED_VERSION: 10,
  UNSUPPORTED: 11,
}

const CODE_BY_VALUE = new Map<number, DeviceErrorCode>(Object.entries(DEVICE_ERROR_CODES).map(([code, value]) => [value, code as DeviceErrorCode]))

export function deviceErrorCodeOf(value: number): DeviceErrorCode | null {
  return CODE_BY_VALUE.get(value) ?? null
}

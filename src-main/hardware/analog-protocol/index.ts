// The analog-board serial protocol (docs/analog-board-protocol.md): CRC, COBS, messages, frames, errors.
export * from './crc16.ts'
export * from './cobs.ts'
export * from './errors.ts'
export * from './messages.ts'
export * from './frame.ts'

/** The protocol's gain unit: a board's nominal transfer is code = gain · Σ x·w / GAIN_DIVISOR (docs, "Transfer"). */
export const GAIN_DIVISOR = 1024

/** The board gain that realises a model gain (codes per unit of Σ x·w). */
export function boardGain(modelGain: number): number {
  return modelGain * GAIN_DIVISOR
}

// Runs a call that must fail on a bad data file; returns the DataFileError so tests can check its sentence.
import { expect } from 'vitest'
import { DataFileError } from '../../src-main/engine/data/errors.ts'

export function failure(call: () => unknown): DataFileError {
  try {
    call()
  } catch (error) {
    expect(error).toBeInstanceOf(DataFileError)
    return error as DataFileError
  }
  throw new Error('expected a DataFileError, but the call returned')
}

// Errors about a data file the user gave: always name the file and say what is wrong with it.
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`)
    this.name = 'DataFileError'
  }
}

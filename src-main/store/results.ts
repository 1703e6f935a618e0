// Where job results are kept: one JSON file per run, written atomically and recorded as an artifact. Values come and
// go as `unknown`: the services parse them with the kind's schema from the contract.
import { readFileSync } from 'node:fs'
import type { RunsRepository } from './runs.ts'

const RESULT_FILE = 'result.json'

export class ResultsRepository {
  constructor(private readonly runs: RunsRepository) {}

  write(runUuid: string, value: unknown): void {
    this.runs.writeArtifact(runUuid, RESULT_FILE, JSON.stringify(value))
  }

  /** The stored result, or null when the run has none (yet). */
  read(runUuid: string): unknown {
    return this.readJson(runUuid, RESULT_FILE)
  }

  /** A JSON file a run of an older Benchside wrote before results had one home; null when it is not there. */
  readJson(runUuid: string, path: string): unknown {
    let text: string
    try {
      text = readFileSync(this.runs.artifactPath(runUuid, path), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
    return JSON.parse(text) as unknown
  }
}

// Where a dataset-import job puts the checked copy while it works: a folder inside the data folder's datasets folder
// (so moving it into place is one rename on the same disk), named after the run, so the parent can find it to finish
// the import or to remove it however the job ended.
import { join } from 'node:path'

export const STAGING_PREFIX = '.importing-'

export function importStagingDir(datasetsDir: string, runUuid: string): string {
  return join(datasetsDir, `${STAGING_PREFIX}${runUuid}`)
}

/** The run a staging folder belongs to, or null for any other name. */
export function stagingRun(folderName: string): string | null {
  return folderName.startsWith(STAGING_PREFIX) ? folderName.slice(STAGING_PREFIX.length) : null
}

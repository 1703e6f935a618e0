#!/usr/bin/env node
// The benchside command: runs the built CLI (out/main/cli.js) when it is up to date, else the TypeScript source through
// tsx, in plain Node. BENCHSIDE_CLI=bundle or BENCHSIDE_CLI=source picks one path outright (benchmarks, tests).
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bundle = join(root, 'out', 'main', 'cli.js')
const source = join(root, 'src-main')

/** True when some file under dir changed after `time`: a stale bundle would run yesterday's code. */
function changedSince(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() ? changedSince(path, time) : statSync(path).mtimeMs > time) return true
  }
  return false
}

// The bundle starts in a fraction of the time tsx needs to transpile the tree. Checking it against the sources costs
// a few milliseconds (a stat per file) and keeps an edited checkout from running an older build.
function useBundle() {
  const choice = process.env.BENCHSIDE_CLI
  if (choice === 'bundle' || choice === 'source') return choice === 'bundle'
  return existsSync(bundle) && !(existsSync(source) && changedSince(source, statSync(bundle).mtimeMs))
}

if (useBundle()) {
  if (!existsSync(bundle)) {
    process.stderr.write(`benchside: ${bundle} is not built yet; run 'npm run build', or unset BENCHSIDE_CLI to run from source.\n`)
    process.exit(1)
  }
  await import(pathToFileURL(bundle).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(join(source, 'cli.ts')).href)
}

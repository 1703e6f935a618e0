// Reading a dataset the user imports: the same readers and checks as loading one, taken in steps that report progress
// and give way to cancellation, handing each checked file's bytes to `keep` (the import job writes them into its
// staging folder). Every file is read once, from what was checked; nothing unchecked is copied.
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import type { Dataset } from './dataset.ts'
import { DataFileError } from './errors.ts'
import { IMPORTED_NPZ } from './imported-layout.ts'
import { fileKind, readRegularFile } from './regular-file.ts'
import { findIdx, IDX_STEMS, idxDataset, isIdxFolder, npzDataset, type DatasetMeta, type NamedBytes } from './sources.ts'
import { clipFeatureReader, planWavFolder, readClip, wavFolderDataset } from './wav-folder.ts'

export type ImportFormat = 'idx' | 'npz' | 'wav-folder'

export interface ImportSteps {
  signal: AbortSignal
  progress(fraction: number, phase: string, message: string): void
  /** A checked file, by its path inside the dataset folder. */
  keep(relativePath: string, bytes: Uint8Array): void
}

/** An IDX folder (all four files), any other folder (WAV class folders), or a regular file (NPZ). */
export function importFormatOf(path: string): ImportFormat {
  let stats
  try {
    stats = statSync(path)
  } catch (error) {
    throw new DataFileError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`)
  }
  if (stats.isDirectory()) return isIdxFolder(path) ? 'idx' : 'wav-folder'
  if (stats.isFile()) return 'npz'
  throw new DataFileError(path, `is ${fileKind(stats)}; import a folder of IDX files, an NPZ file or a folder of WAV class folders.`)
}

/** Lets the event loop run (progress messages go out, a cancel comes in) and stops if the job was cancelled. */
async function giveWay(signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
  signal.throwIfAborted()
}

export async function readDatasetForImport(path: string, meta: DatasetMeta, steps: ImportSteps): Promise<{ format: ImportFormat; dataset: Dataset }> {
  const format = importFormatOf(path)
  const dataset =
    format === 'npz' ? await importNpz(path, meta, steps) : format === 'idx' ? await importIdx(path, meta, steps) : await importWavFolder(path, meta, steps)
  return { format, dataset }
}

async function importNpz(path: string, meta: DatasetMeta, steps: ImportSteps): Promise<Dataset> {
  steps.progress(0.05, 'reading', basename(path))
  const bytes = readRegularFile(path)
  await giveWay(steps.signal)
  steps.progress(0.3, 'checking', `the arrays of ${basename(path)}`)
  const dataset = npzDataset({ name: basename(path), bytes }, meta)
  await giveWay(steps.signal)
  steps.progress(0.8, 'copying', basename(path))
  steps.keep(IMPORTED_NPZ, bytes)
  return dataset
}

async function importIdx(folder: string, meta: DatasetMeta, steps: ImportSteps): Promise<Dataset> {
  const files: NamedBytes[] = []
  for (const [i, stem] of IDX_STEMS.entries()) {
    const file = findIdx(folder, stem)
    steps.progress(0.05 + 0.15 * i, 'reading', basename(file))
    files.push({ name: basename(file), bytes: readRegularFile(file) })
    await giveWay(steps.signal)
  }
  steps.progress(0.65, 'checking', 'images and labels')
  const dataset = idxDataset(folder, files as [NamedBytes, NamedBytes, NamedBytes, NamedBytes], meta)
  await giveWay(steps.signal)
  steps.progress(0.85, 'copying', `${files.length} files`)
  for (const file of files) steps.keep(file.name, file.bytes)
  return dataset
}

async function importWavFolder(folder: string, meta: DatasetMeta, steps: ImportSteps): Promise<Dataset> {
  steps.progress(0.01, 'listing', 'class folders')
  const plan = planWavFolder(folder, meta.classNames)
  const reader = clipFeatureReader()
  const features: Float32Array[] = []
  let lastBreak = Date.now()
  for (const [i, clip] of plan.clips.entries()) {
    const bytes = readClip(clip)
    features.push(reader.features(bytes, clip.path))
    steps.keep(`${clip.className}/${clip.name}`, bytes)
    // Give way every 50 ms: progress flows and a cancel lands between clips, not after the last one.
    if (Date.now() - lastBreak > 50) {
      steps.progress(0.02 + (0.95 * (i + 1)) / plan.clips.length, 'reading clips', `${i + 1} of ${plan.clips.length}`)
      await giveWay(steps.signal)
      lastBreak = Date.now()
    }
  }
  steps.progress(0.97, 'checking', `${plan.clips.length} clips`)
  return wavFolderDataset(plan, features, reader.sampleShape, meta)
}

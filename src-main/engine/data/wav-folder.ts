// A folder of spoken keywords (one subfolder of .wav files per class) as an MFCC dataset, split into train, validation
// and test by a hash of each file name, the Speech Commands convention, so a file stays in its split as the folder grows.
import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fitNormalization, type Dataset, type Split } from './dataset.ts'
import { DataFileError } from './errors.ts'
import { MAX_CLASSES, MAX_WAV_FILE_BYTES } from './limits.ts'
import { KWS_MFCC, mfccExtractor } from './mfcc.ts'
import { isFolder, readRegularFile } from './regular-file.ts'
import { readWavAt } from './wav.ts'

export type WavSplitName = 'train' | 'validation' | 'test'

const MAX_FILES_PER_CLASS = 2 ** 27 - 1

/**
 * Speech Commands' `which_set`: the name up to `_nohash_` (the speaker) is SHA-1 hashed, so all of one speaker's
 * clips land in the same split; percentages are of that hash.
 */
export function splitOf(fileName: string, validationPercent = 10, testPercent = 10): WavSplitName {
  const speaker = basename(fileName).replace(/_nohash_.*$/, '')
  const hash = BigInt(`0x${createHash('sha1').update(speaker).digest('hex')}`)
  const percent = Number(hash % BigInt(MAX_FILES_PER_CLASS + 1)) * (100 / MAX_FILES_PER_CLASS)
  if (percent < validationPercent) return 'validation'
  if (percent < validationPercent + testPercent) return 'test'
  return 'train'
}

/** Class folders are the subfolders, sorted; names starting with '_' or '.' (e.g. `_background_noise_`) are skipped. */
export function classFolders(folder: string): string[] {
  let names: string[]
  try {
    names = readdirSync(folder)
  } catch (error) {
    throw new DataFileError(folder, `cannot be read as a folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`)
  }
  return names.filter((n) => !n.startsWith('_') && !n.startsWith('.') && isFolder(join(folder, n))).sort()
}

export interface WavFolderOptions {
  validationPercent?: number
  testPercent?: number
}

export interface WavClip {
  className: string
  label: number
  /** The file's name in its class folder. */
  name: string
  path: string
  split: WavSplitName
}

/** What a WAV folder holds, from its listing alone: classes and clips, each clip's split decided by its name. */
export interface WavFolderPlan {
  folder: string
  classes: string[]
  clips: WavClip[]
}

export function planWavFolder(folder: string, classNames?: string[], options: WavFolderOptions = {}): WavFolderPlan {
  const classes = classFolders(folder)
  if (classes.length === 0)
    throw new DataFileError(folder, 'has no class folders; put the .wav files of each class in a subfolder named after the class (e.g. yes/, no/).')
  if (classes.length < 2) throw new DataFileError(folder, `has only one class folder ('${classes[0]}'); a classifier needs at least two.`)
  if (classNames && classNames.join('\u0000') !== classes.join('\u0000')) {
    throw new DataFileError(folder, `its class folders are now ${classes.join(', ')}, but the dataset was imported with ${classNames.join(', ')}.`)
  }
  if (classes.length > MAX_CLASSES) throw new DataFileError(folder, `has ${classes.length} class folders; at most ${MAX_CLASSES} classes are supported.`)
  const clips = classes.flatMap((className, label) => {
    const classDir = join(folder, className)
    let names: string[]
    try {
      names = readdirSync(classDir)
    } catch (error) {
      throw new DataFileError(classDir, `cannot be read as a folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`)
    }
    const files = names.filter((n) => n.toLowerCase().endsWith('.wav')).sort()
    if (files.length === 0) throw new DataFileError(classDir, `the class '${className}' has no .wav files.`)
    return files.map((name) => ({ className, label, name, path: join(classDir, name), split: splitOf(name, options.validationPercent, options.testPercent) }))
  })
  return { folder, classes, clips }
}

/** One clip file's bytes: a regular file of at most MAX_WAV_FILE_BYTES (a FIFO named *.wav is refused, not waited on). */
export function readClip(clip: WavClip): Uint8Array {
  return readRegularFile(clip.path, MAX_WAV_FILE_BYTES)
}

/** Turns clip files into keyword features: only the clip's first second is decoded, resampled and transformed. */
export function clipFeatureReader(): { sampleShape: number[]; features(bytes: Uint8Array, path: string): Float32Array } {
  const extractor = mfccExtractor(KWS_MFCC)
  const seconds = KWS_MFCC.clipSamples / KWS_MFCC.sampleRate
  return {
    sampleShape: [extractor.frames, KWS_MFCC.coefficients, 1],
    features: (bytes, path) => extractor.features(readWavAt(bytes, path, KWS_MFCC.sampleRate, seconds)),
  }
}

/** The dataset from a plan and each clip's features (in the plan's order). */
export function wavFolderDataset(plan: WavFolderPlan, features: readonly Float32Array[], sampleShape: number[], meta: { id: string; name: string }): Dataset {
  const size = sampleShape.reduce((a, b) => a * b, 1)
  const collected: Record<WavSplitName, { x: Float32Array[]; y: number[] }> = {
    train: { x: [], y: [] },
    validation: { x: [], y: [] },
    test: { x: [], y: [] },
  }
  plan.clips.forEach((clip, i) => {
    collected[clip.split].x.push(features[i]!)
    collected[clip.split].y.push(clip.label)
  })
  const toSplit = ({ x, y }: { x: Float32Array[]; y: number[] }): Split => {
    const values = new Float32Array(x.length * size)
    x.forEach((f, i) => values.set(f, i * size))
    return { x: values, y: Int32Array.from(y), count: y.length }
  }
  const train = toSplit(collected.train)
  const validation = toSplit(collected.validation)
  const test = toSplit(collected.test)
  const total = train.count + validation.count + test.count
  if (train.count === 0 || test.count === 0) {
    throw new DataFileError(
      plan.folder,
      `its ${total} files gave ${train.count} training and ${test.count} test clips; both splits need clips, so add more files (the split follows a hash of each file name).`,
    )
  }
  return {
    id: meta.id,
    name: meta.name,
    sampleShape,
    classNames: plan.classes,
    normalization: fitNormalization(train, 1),
    train,
    validation: validation.count > 0 ? validation : null,
    test,
  }
}

export function readWavFolder(folder: string, meta: { id: string; name: string; classNames?: string[] }, options: WavFolderOptions = {}): Dataset {
  const plan = planWavFolder(folder, meta.classNames, options)
  const reader = clipFeatureReader()
  const features = plan.clips.map((clip) => reader.features(readClip(clip), clip.path))
  return wavFolderDataset(plan, features, reader.sampleShape, meta)
}

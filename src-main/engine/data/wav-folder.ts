// A folder of spoken keywords (one subfolder of .wav files per class) as an MFCC dataset, split into train, validation
// and test by a hash of each file name, the Speech Commands convention, so a file stays in its split as the folder grows.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fitNormalization, type Dataset, type Split } from './dataset.ts'
import { DataFileError } from './errors.ts'
import { KWS_MFCC, mfccExtractor } from './mfcc.ts'
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
  return names.filter((n) => !n.startsWith('_') && !n.startsWith('.') && statSync(join(folder, n)).isDirectory()).sort()
}

export interface WavFolderOptions {
  validationPercent?: number
  testPercent?: number
}

export function readWavFolder(folder: string, meta: { id: string; name: string; classNames?: string[] }, options: WavFolderOptions = {}): Dataset {
  const classes = classFolders(folder)
  if (classes.length === 0)
    throw new DataFileError(folder, 'has no class folders; put the .wav files of each class in a subfolder named after the class (e.g. yes/, no/).')
  if (classes.length < 2) throw new DataFileError(folder, `has only one class folder ('${classes[0]}'); a classifier needs at least two.`)
  if (meta.classNames && meta.classNames.join('\u0000') !== classes.join('\u0000')) {
    throw new DataFileError(folder, `its class folders are now ${classes.join(', ')}, but the dataset was imported with ${meta.classNames.join(', ')}.`)
  }
  const extractor = mfccExtractor(KWS_MFCC)
  const sampleShape = [extractor.frames, KWS_MFCC.coefficients, 1]
  const size = extractor.frames * KWS_MFCC.coefficients
  const collected: Record<WavSplitName, { x: Float32Array[]; y: number[] }> = {
    train: { x: [], y: [] },
    validation: { x: [], y: [] },
    test: { x: [], y: [] },
  }
  classes.forEach((className, label) => {
    const classDir = join(folder, className)
    const files = readdirSync(classDir)
      .filter((n) => n.toLowerCase().endsWith('.wav'))
      .sort()
    if (files.length === 0) throw new DataFileError(classDir, `the class '${className}' has no .wav files.`)
    for (const name of files) {
      const path = join(classDir, name)
      let bytes: Uint8Array
      try {
        bytes = readFileSync(path)
      } catch (error) {
        throw new DataFileError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`)
      }
      const target = collected[splitOf(name, options.validationPercent, options.testPercent)]
      target.x.push(extractor.features(readWavAt(bytes, path, KWS_MFCC.sampleRate)))
      target.y.push(label)
    }
  })
  const toSplit = ({ x, y }: { x: Float32Array[]; y: number[] }): Split => {
    const values = new Float32Array(x.length * size)
    x.forEach((features, i) => values.set(features, i * size))
    return { x: values, y: Int32Array.from(y), count: y.length }
  }
  const train = toSplit(collected.train)
  const validation = toSplit(collected.validation)
  const test = toSplit(collected.test)
  const total = train.count + validation.count + test.count
  if (train.count === 0 || test.count === 0) {
    throw new DataFileError(
      folder,
      `its ${total} files gave ${train.count} training and ${test.count} test clips; both splits need clips, so add more files (the split follows a hash of each file name).`,
    )
  }
  return {
    id: meta.id,
    name: meta.name,
    sampleShape,
    classNames: classes,
    normalization: fitNormalization(train, 1),
    train,
    validation: validation.count > 0 ? validation : null,
    test,
  }
}

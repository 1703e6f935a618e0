// How much a data file may make Benchside read, inflate or allocate. Files say how big they are (NPY shapes, zip
// entry sizes, WAV chunk sizes, labels that imply a class count); every reader checks those claims against the file
// and against these limits before it allocates, so a 1 KB file cannot ask for gigabytes. docs/datasets.md lists them.

/** One file read whole (Node reads at most 2 GiB − 1 bytes into one buffer). */
export const MAX_FILE_BYTES = 2 ** 31 - 1

/** Everything inflated from one archive (NPZ entries together, or one gzipped IDX file). */
export const MAX_INFLATED_BYTES = 2 ** 31 - 1

/**
 * Inflated ÷ compressed size above which an entry looks like a zip bomb. Real arrays compress 1–20:1; deflate cannot
 * exceed about 1030:1. Entries up to RATIO_FREE_BYTES may compress as well as they like: they cannot hurt.
 */
export const MAX_INFLATE_RATIO = 200
export const RATIO_FREE_BYTES = 16 * 2 ** 20

/** Classes of a dataset whose class names come from its labels (0 … largest label). */
export const MAX_CLASSES = 1000

/** Sample rates a WAV file may declare, in Hz: telephone-grade audio up to studio rates. */
export const MIN_WAV_RATE = 1000
export const MAX_WAV_RATE = 384_000

/** One WAV clip of a keyword folder (a one-second clip is 32 KB; ten seconds of 48 kHz stereo float64 is 7.7 MB). */
export const MAX_WAV_FILE_BYTES = 64 * 2 ** 20

/** A model.json holds the topology and a manifest, not the weights. */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20

/** A size in words: '730 bytes', '64 MiB', '1.5 GiB'. */
export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`
}

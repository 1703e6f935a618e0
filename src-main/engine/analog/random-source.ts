// Where the analog model's randomness comes from: a seed (reproducible) or a uniform generator, turned into a key for
// seeded normals (noise) and a generator for the 'random' integration order.
import { hashKey } from '../normal-random.ts'
import { seededRandom } from '../random.ts'

/** A seed, or a function returning uniform numbers in [0, 1). */
export type AnalogRandom = { seed: number } | (() => number)

/** A 32-bit key for one named stream of a call. */
export function streamKey(random: AnalogRandom, stream: string): number {
  return typeof random === 'function' ? Math.floor(random() * 4294967296) >>> 0 : hashKey(['analog', random.seed, stream])
}

/** Uniform numbers for one named stream of a call. */
export function streamUniform(random: AnalogRandom, stream: string): () => number {
  return typeof random === 'function' ? random : seededRandom(streamKey(random, stream))
}

// Unseeded calls still differ from each other: a per-process call counter.
let unseededCalls = 0

/** The seed of one call: the given one, or the next value of the call counter. */
export function callSeed(seed: number | undefined): number {
  return seed ?? hashKey(['analog-unseeded', unseededCalls++])
}

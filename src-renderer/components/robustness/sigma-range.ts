// The σ range of a sweep, chosen from the model: a quick coarse probe (one σ per decade, one repeat, a few hundred test
// samples) shows where accuracy starts to fall and where it reaches chance; the range keeps a decade either side.
import type { SweepResult } from '../../../src-main/contract/index.ts'

/** The probe's grid: one σ per decade over everything a sweep may ask (the contract allows up to 1e12). */
export const PROBE_GRID = { from: 1e-3, to: 1e10, count: 14 } as const
export const PROBE_LIMIT = 256

/** σ as the form shows it: plain for 0.01…9999, else short scientific ("1e10", "3e-3"). */
export function formatSigma(value: number): string {
  if (value >= 0.01 && value < 1e4) return String(Number(value.toPrecision(3)))
  return value.toExponential().replace('e+', 'e')
}

/** A typed σ: a positive number ("0.01", "1e-2"), or a sentence saying what is wrong. */
export function parseSigma(text: string, field: string): number | string {
  const value = Number(text.trim())
  if (text.trim() === '' || !Number.isFinite(value)) return `${field} must be a number, like 0.01 or 1e-2; got “${text}”.`
  if (value <= 0) return `${field} must be above 0; got ${text}.`
  if (value > 1e12) return `${field} must be at most 1e12; got ${text}.`
  return value
}

/** Why a from–to pair cannot be swept, or null when it can. */
export function rangeProblem(fromText: string, toText: string): string | null {
  const from = parseSigma(fromText, 'σ from')
  if (typeof from === 'string') return from
  const to = parseSigma(toText, 'σ to')
  if (typeof to === 'string') return to
  if (from >= to) return `σ from (${formatSigma(from)}) must be below σ to (${formatSigma(to)}).`
  return null
}

/**
 * The range a probe suggests, over every scope it measured: from the last σ where accuracy is still within 5% of the
 * way from clean to chance (a probe step, one decade, before it falls) to the first σ from which it stays near chance,
 * over the points that reach chance at all. Null when the probe has no clean accuracy or the model is at chance
 * without noise.
 */
export function rangeFromProbe(probe: SweepResult): { from: number; to: number } | null {
  const chance = 1 / probe.classes
  let flat = Infinity
  let gone = 0
  let lastProbed = 0
  let measured = false
  for (const scope of probe.scopes) {
    const clean = scope.curve.find((p) => p.sigma === 0)?.accuracy ?? probe.clean
    if (clean === null || clean - chance < 0.05) continue
    const noisy = scope.curve.filter((p) => p.sigma > 0).sort((a, b) => a.sigma - b.sigma)
    if (noisy.length === 0) continue
    measured = true
    const drop = (accuracy: number) => (clean - accuracy) / (clean - chance)
    // The last σ before the first visible drop.
    const firstDrop = noisy.findIndex((p) => drop(p.accuracy) > 0.05)
    flat = Math.min(flat, firstDrop <= 0 ? noisy[0]!.sigma / 10 : noisy[firstDrop - 1]!.sigma)
    // The first σ from which accuracy stays near chance (80% of the way: a few hundred samples scatter around it).
    let atChance = noisy.length
    while (atChance > 0 && drop(noisy[atChance - 1]!.accuracy) > 0.8) atChance--
    lastProbed = Math.max(lastProbed, noisy.at(-1)!.sigma)
    // A point that never reaches chance (noise it shrugs off) would stretch every other point's axis: left out.
    if (atChance < noisy.length) gone = Math.max(gone, noisy[atChance]!.sigma)
  }
  if (!measured) return null
  if (gone === 0) gone = lastProbed
  const from = 10 ** Math.floor(Math.log10(flat) + 1e-9)
  const to = Math.min(1e12, 10 ** Math.ceil(Math.log10(gone) - 1e-9))
  return from < to ? { from, to } : { from: to / 100, to }
}

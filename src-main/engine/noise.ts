// Elementwise Gaussian noise at injection points (additive, multiplicative, combined) as PointHooks, the scopes that
// place it (one point, all points, a weighted set) and the noisy-training variants. σ = 0 costs nothing.
import * as tf from '@tensorflow/tfjs'
import type { Hooks, InjectionPoint, Network, PointHook } from './network.ts'
import { fillNormals, hashKey } from './normal-random.ts'

export type NoiseKind = 'additive' | 'multiplicative' | 'combined'
export type NoiseOrder = 'mul-then-add' | 'add-then-mul'
/** 'none': σ as given; 'sqrt': σ/√N; 'linear': σ/N; N = elements of one sample's value at the point. */
export type SigmaNormalization = 'none' | 'sqrt' | 'linear'

/** How noise is drawn at a point, given a level σ (the amplitude A for combined noise). */
export interface NoiseModel {
  kind: NoiseKind
  /** Combined only: σ_add = A·ratio, σ_mul = A·(1 − ratio). */
  ratio?: number
  /** Combined only; default 'mul-then-add'. */
  order?: NoiseOrder
  normalize?: SigmaNormalization
  /** Executions averaged per point id (default 1): the effective σ is σ/√r. */
  executions?: Readonly<Record<string, number>>
}

/** Where noise goes: one point (walking noise), every point but the input, or a named set with a σ scale per point. */
export type NoiseScope = { kind: 'point'; point: string } | { kind: 'global' } | { kind: 'set'; name: string; scales: Readonly<Record<string, number>> }

/** The component a standard-normal tensor feeds: additive, multiplicative, or the per-sample σ draw of training. */
export type NoiseStream = 'add' | 'mul' | 'sample'

/** Standard-normal values of a given shape for one point and stream. Called inside the caller's tidy. */
export type NormalSource = (point: InjectionPoint, shape: readonly number[], stream: NoiseStream) => tf.Tensor

/** A σ for the whole batch, or a per-sample tensor of shape [batch, 1, …, 1] that broadcasts over the value. */
export type Sigma = number | tf.Tensor

export interface PointSigmas {
  add: Sigma
  mul: Sigma
}

/** When a hook acts: at inference (forward with training = false), while training, or both. */
export type NoiseWhen = 'inference' | 'training' | 'always'

/** The store's scope name: the point id, 'global', or the set's name. */
export function scopeId(scope: NoiseScope): string {
  return scope.kind === 'point' ? scope.point : scope.kind === 'global' ? 'global' : scope.name
}

/** σ multiplier of each point a scope covers; 'global' covers every point except the input. */
export function scopeScales(scope: NoiseScope, points: readonly InjectionPoint[]): Map<string, number> {
  const known = new Set(points.map((p) => p.id))
  const check = (id: string): string => {
    if (!known.has(id)) throw new Error(`The noise scope names '${id}', which is not an injection point. Points: ${[...known].join(', ')}.`)
    return id
  }
  if (scope.kind === 'point') return new Map([[check(scope.point), 1]])
  if (scope.kind === 'global') return new Map(points.filter((p) => p.op !== 'input').map((p) => [p.id, 1]))
  return new Map(Object.entries(scope.scales).map(([id, scale]) => [check(id), scale]))
}

/** Factor from the level σ to one point's σ: normalisation by its size and averaging over r executions. */
export function pointSigmaFactor(model: NoiseModel, point: InjectionPoint): number {
  const elements = point.outputShape.reduce((a, b) => a * b, 1)
  const normalize = model.normalize ?? 'none'
  const bySize = normalize === 'sqrt' ? 1 / Math.sqrt(elements) : normalize === 'linear' ? 1 / elements : 1
  const executions = model.executions?.[point.id] ?? 1
  if (!(executions >= 1)) throw new Error(`Point '${point.id}' is set to ${executions} executions; use 1 or more.`)
  return bySize / Math.sqrt(executions)
}

/** The additive and multiplicative σ at a point for level σ (a number, or per-sample levels as a tensor). */
export function pointSigmas(model: NoiseModel, point: InjectionPoint, sigma: Sigma): PointSigmas {
  const factor = pointSigmaFactor(model, point)
  const ratio = model.ratio ?? 0.5
  if (model.kind === 'combined' && !(ratio >= 0 && ratio <= 1)) throw new Error(`The combined-noise ratio is ${ratio}; it must lie between 0 and 1.`)
  const addShare = model.kind === 'additive' ? 1 : model.kind === 'multiplicative' ? 0 : ratio
  const scale = (share: number): Sigma => (share === 0 ? 0 : typeof sigma === 'number' ? sigma * factor * share : tf.mul(sigma, factor * share))
  return { add: scale(addShare), mul: scale(1 - addShare) }
}

const isZero = (sigma: Sigma): boolean => typeof sigma === 'number' && sigma === 0

/**
 * x + σ_a·z_a, x·(1 + σ_m·z_m), or both in the given order; `normals(stream)` gives the standard-normal tensors.
 * Returns `value` itself when both σ are 0.
 */
export function applyNoise(value: tf.Tensor, sigmas: PointSigmas, order: NoiseOrder, normals: (stream: 'add' | 'mul') => tf.Tensor): tf.Tensor {
  const add = (x: tf.Tensor): tf.Tensor => (isZero(sigmas.add) ? x : tf.add(x, tf.mul(normals('add'), sigmas.add)))
  const mul = (x: tf.Tensor): tf.Tensor => (isZero(sigmas.mul) ? x : tf.add(x, tf.mul(x, tf.mul(normals('mul'), sigmas.mul))))
  return order === 'add-then-mul' ? mul(add(value)) : add(mul(value))
}

/** Unseeded normals from tfjs (training, interactive use). */
export function randomNormals(): NormalSource {
  return (_point, shape) => tf.randomNormal([...shape])
}

/**
 * Reproducible normals for one (seed, repeat) over the batch starting at sample `offset`: the numbers depend only on
 * (seed, point, repeat, offset, batch shape, stream), not on σ or on what else was drawn, so every σ of a repeat
 * sees the same draw and a resumed sweep recomputes exactly the same cells.
 */
export function seededNormals(seed: number, repeat: number, offset: number): NormalSource {
  return (point, shape, stream) => {
    const size = shape.reduce((a, b) => a * b, 1)
    const key = hashKey([seed, point.id, repeat, offset, shape.join('x'), stream])
    return tf.tensor(fillNormals(new Float32Array(size), key), [...shape])
  }
}

/** Reproducible normals for training: a counter advances with every draw, so a run with the same seed repeats. */
export function counterNormals(seed: number): NormalSource {
  let draw = 0
  return (point, shape, stream) => seededNormals(seed, draw++, 0)(point, shape, stream)
}

export interface NoiseHookOptions {
  source?: NormalSource
  when?: NoiseWhen
}

function active(when: NoiseWhen, training: boolean): boolean {
  return when === 'always' || (when === 'training') === training
}

/** A PointHook adding noise of level σ (times `scale`) at whatever point it is attached to. σ·scale = 0 is the identity. */
export function noiseHook(model: NoiseModel, sigma: number, options: NoiseHookOptions & { scale?: number } = {}): PointHook {
  const level = sigma * (options.scale ?? 1)
  if (level === 0) return (value) => value
  const source = options.source ?? randomNormals()
  const when = options.when ?? 'inference'
  return (value, point, training) => {
    if (!active(when, training)) return value
    return applyNoise(value, pointSigmas(model, point, level), model.order ?? 'mul-then-add', (stream) => source(point, value.shape, stream))
  }
}

/** Hooks that put noise of level σ on every point of a scope (σ × the point's scale for a set). */
export function scopeHooks(net: Pick<Network, 'points'>, scope: NoiseScope, model: NoiseModel, sigma: number, options: NoiseHookOptions = {}): Hooks {
  const after = new Map<string, PointHook>()
  for (const [id, scale] of scopeScales(scope, net.points)) {
    if (sigma * scale !== 0) after.set(id, noiseHook(model, sigma, { ...options, scale }))
  }
  return { after }
}

/** Noise during training: level σ_train, optionally drawn per sample as σ_train + θ·|N(0,1)| and ramped from 0. */
export interface TrainingNoise {
  model: NoiseModel
  scope: NoiseScope
  sigma: number
  /** Per-sample spread θ (default 0: every sample gets σ_train). */
  theta?: number
  /** Ramp σ linearly from 0 over this many epochs: σ(e) = σ_train·min(1, e/N) for epoch e = 0, 1, … (0: no ramp). */
  rampEpochs?: number
  source?: NormalSource
}

/** A hook active only while training, with per-sample levels σ_i = σ + θ·|N(0,1)| when θ > 0. */
export function trainingNoiseHook(model: NoiseModel, sigma: number, theta = 0, source: NormalSource = randomNormals()): PointHook {
  if (theta === 0) return noiseHook(model, sigma, { source, when: 'training' })
  if (theta < 0) throw new Error(`The per-sample noise spread θ is ${theta}; it must be 0 or more.`)
  return (value, point, training) => {
    if (!training) return value
    const perSample = [value.shape[0]!, ...value.shape.slice(1).map(() => 1)]
    const levels = tf.add(sigma, tf.mul(tf.abs(source(point, perSample, 'sample')), theta))
    return applyNoise(value, pointSigmas(model, point, levels), model.order ?? 'mul-then-add', (stream) => source(point, value.shape, stream))
  }
}

/** Fraction of the full training noise (σ and θ) applied at an epoch (0-based): min(1, e/N), or 1 without a ramp. */
export function rampShare(noise: Pick<TrainingNoise, 'rampEpochs'>, epoch: number): number {
  const ramp = noise.rampEpochs ?? 0
  return ramp > 0 ? Math.min(1, epoch / ramp) : 1
}

/** Training hooks at a fixed σ (`TrainOptions.hooks`). */
export function trainingHooks(net: Pick<Network, 'points'>, noise: TrainingNoise, sigma = noise.sigma): Hooks {
  const after = new Map<string, PointHook>()
  for (const [id, scale] of scopeScales(noise.scope, net.points)) {
    if (sigma * scale !== 0 || (noise.theta ?? 0) * scale !== 0) {
      after.set(id, trainingNoiseHook(noise.model, sigma * scale, (noise.theta ?? 0) * scale, noise.source))
    }
  }
  return { after }
}

/** Training hooks per epoch (`TrainOptions.hooksForEpoch`), ramping σ (and θ with it) from 0 over `rampEpochs`. */
export function trainingHooksForEpoch(net: Pick<Network, 'points'>, noise: TrainingNoise): (epoch: number) => Hooks {
  return (epoch) => {
    const share = rampShare(noise, epoch)
    return trainingHooks(net, { ...noise, theta: (noise.theta ?? 0) * share }, noise.sigma * share)
  }
}

// Analog matrix-vector multiplication on a BrainScaleS-2-like array, as a differentiable tfjs model and as compute
// hooks for dense and conv2d layers. The parts live in analog/; see docs/analog-model.md.
export * from './analog/config.ts'
export * from './analog/codes.ts'
export * from './analog/integrate.ts'
export * from './analog/matmul.ts'
export * from './analog/layers.ts'
export * from './analog/hooks.ts'
export * from './analog/plan.ts'
export { steRound } from './analog/ste.ts'
export type { AnalogRandom } from './analog/random-source.ts'

// Every job kind: a one-line summary for the UI and CLI, and its job function, loaded only inside the job process.
import type { JobKind } from '../../contract/index.ts'
import type { JobFunction } from '../context.ts'

interface JobKindEntry<K extends JobKind> {
  summary: string
  /**
   * Inline jobs run in the main process: they wait on an agent board (I/O) and need its lock, which lives there.
   * Analog-board jobs run in a process and reach their board through a board session (board-rpc.ts).
   */
  inline?: true
  load: () => Promise<{ default: JobFunction<K> }>
}

export const jobKinds: { [K in JobKind]: JobKindEntry<K> } = {
  selftest: {
    summary: 'Writes metrics for a few seconds: shows that jobs, progress, cancel and the history work.',
    load: () => import('./selftest.ts'),
  },
  train: {
    summary: 'Trains an architecture on a dataset: per-epoch metrics, checkpoints, test accuracy, the model as artifacts.',
    load: () => import('./train.ts'),
  },
  evaluate: {
    summary: 'Evaluates a stored model on a dataset split: accuracy, loss, confusion matrix.',
    load: () => import('./evaluate.ts'),
  },
  sweep: {
    summary: 'Noise sweep: accuracy under noise at each injection point (or all, or a set) and the midpoint noise levels.',
    load: () => import('./sweep.ts'),
  },
  'robustness-study': {
    summary: 'Quantization vs noisy training: trains a grid (float, noisy, QAT bits × scales) with repeats, then measures each under global and walking noise.',
    load: () => import('./robustness-study.ts'),
  },
  'analog-calibrate': {
    summary: 'Calibrates the analog model against a board: per-column gain and offset, noise, saturation, operand ordering.',
    load: () => import('./analog-calibrate.ts'),
  },
  'hil-evaluate': {
    summary: "Hardware in the loop: a model's dense/conv layers on the analog board; float, simulated and measured accuracy per layer and end to end.",
    load: () => import('./hil-evaluate.ts'),
  },
  'hil-finetune': {
    summary: 'Hardware-in-the-loop fine-tuning: forward pass on the board, backward pass through the calibrated model.',
    load: () => import('./hil-finetune.ts'),
  },
  'dataset-import': {
    summary: 'Imports a dataset (IDX folder, NPZ file, or WAV class folders): checks every file against size limits, then copies it into the data folder.',
    load: () => import('./dataset-import.ts'),
  },
  'model-import': {
    summary: 'Imports a model (a model.json, or NPZ weights for a built-in architecture): checks every weight; the run becomes the model.',
    load: () => import('./model-import.ts'),
  },
  roofline: {
    summary: 'Measures a board: peak FLOP/s, memory bandwidths, fp32 / int8 / bit-serial GEMM on the roofline.',
    inline: true,
    load: () => import('./roofline.ts'),
  },
  'compression-search': {
    summary: 'Searches per-layer pruning + quantization policies with a DDPG agent whose reward uses latency measured on the board.',
    load: () => import('./compression-search.ts'),
  },
  'compression-baseline': {
    summary: 'Compression baselines near a target latency: uniform, random or sensitivity-greedy policies, scored like search episodes.',
    load: () => import('./compression-baseline.ts'),
  },
  'compression-apply': {
    summary: 'Applies a compression policy to a model, retrains and tests it; the run becomes the compressed model.',
    load: () => import('./compression-apply.ts'),
  },
  'compression-profile': {
    summary: "Times a model's uniform keep × bits grid on a board: the per-layer cost model that predicts a policy's latency.",
    load: () => import('./compression-profile.ts'),
  },
  'ensemble-train': {
    summary: "Trains a repulsive last-layer ensemble on a model's frozen body (or a plain or deep ensemble) and measures its calibration and OOD detection.",
    load: () => import('./ensemble-train.ts'),
  },
  'uncertainty-evaluate': {
    summary: 'Uncertainty of an ensemble or model: calibration, OOD detection, risk–coverage, a gallery, and uncertainty against injected noise.',
    load: () => import('./uncertainty-evaluate.ts'),
  },
  'active-learning': {
    summary: 'Pool-based active learning on a frozen body: BALD, entropy, margin or random acquisition, test accuracy and ECE per round.',
    load: () => import('./active-learning.ts'),
  },
  'layer-latency': {
    summary: "Times a model's dense and conv layers on a board, optionally under a pruning + quantization policy.",
    inline: true,
    load: () => import('./layer-latency.ts'),
  },
}

// Which way is better for a metric, read from its key alone.
import { describe, expect, it } from 'vitest'
import { metricDirection } from '../../../src-main/contract/index.ts'

describe('metricDirection', () => {
  it.each(['loss', 'val_loss', 'trainLoss', 'test_error', 'errorRate', 'latency_ms', 'epoch_time', 'runtime', 'duration_s', 'seconds', 'brier_score', 'LOSS'])(
    '%s is lower-is-better',
    (key) => expect(metricDirection(key)).toBe('min'),
  )

  it.each(['ece', 'test_ece', 'eceBins', 'val/nll', 'valNll', 'nll'])('%s (ece or nll as a part) is lower-is-better', (key) =>
    expect(metricDirection(key)).toBe('min'),
  )

  it.each(['accuracy', 'test_accuracy', 'midpoint_sigma', 'throughput', 'f1', 'recent_accuracy', 'precision', 'piece_count', 'tunnel_gain'])(
    '%s is higher-is-better',
    (key) => expect(metricDirection(key)).toBe('max'),
  )
})

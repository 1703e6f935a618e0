// The selftest job: writes a decaying 'loss' and a noisy 'signal' metric for a few seconds, then a summary artifact;
// with nonFinite, a 'diverged' metric that is NaN, Infinity or -Infinity at three steps of every four.
import { sleep, type JobContext } from '../context.ts'

export default async function selftest(context: JobContext<'selftest'>): Promise<void> {
  const { seconds, metricsPerSecond, failAfterSeconds, nonFinite } = context.params
  const total = Math.max(1, Math.round(seconds * metricsPerSecond))
  const failAt = failAfterSeconds === undefined ? Infinity : Math.round(failAfterSeconds * metricsPerSecond)
  const first = context.resume ? (context.resume.lastSteps['loss'] ?? -1) + 1 : 0
  let loss = 0
  for (let step = first; step < total; step++) {
    await sleep(1000 / metricsPerSecond, context.signal)
    if (step >= failAt) throw new Error(`Selftest failed on purpose at step ${step}, as asked by failAfterSeconds.`)
    loss = Math.exp(-step / (total / 3))
    context.metric('loss', loss, step)
    context.metric('signal', Math.sin(step / 5) + 0.1 * (Math.random() - 0.5), step)
    if (nonFinite) context.metric('diverged', [step, NaN, Infinity, -Infinity][step % 4]!, step)
    context.progress((step + 1) / total, 'writing metrics', `step ${step + 1} of ${total}`)
  }
  context.result({ steps: total, resumedAt: context.resume ? first : null, finalLoss: loss })
}

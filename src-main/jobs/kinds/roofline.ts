// The roofline job: measures a board's limits and operators (each configuration once, via the latency table) and
// reports the study as its result, plus metrics per operator.
import { measureRoofline } from '../../hardware/roofline-study.ts'
import type { JobContext, JobFunction } from '../context.ts'

const rooflineJob: JobFunction<'roofline'> = async (context: JobContext<'roofline'>, services) => {
  if (!services) throw new Error('The roofline job runs in the main process, where the board lock lives.')
  const p = context.params
  context.progress(0, 'waiting', `board ${p.board}`)
  const study = await services.boards.withBoard(
    p.board,
    context.runUuid,
    (board) =>
      measureRoofline(board, services.latency, {
        sizes: p.sizes,
        bits: p.bits,
        threads: p.threads,
        force: p.force,
        signal: context.signal,
        onProgress: (fraction, message) => context.progress(fraction, 'measuring', message),
      }),
    { signal: context.signal, onWait: (message) => context.progress(0, 'waiting', message) },
  )
  context.param('board', study.board.id)
  context.param('agent_version', study.board.agentVersion)
  context.metric('peak_gflops', study.peakOpsPerSecond / 1e9, 0)
  for (const b of study.bandwidth) context.metric(`bandwidth_gbs_${b.level}`, b.bytesPerSecond / 1e9, 0)
  study.operators.forEach((o, i) => {
    const key = o.kernel === 'gemm_bitserial' ? `bitserial_a${o.bits}w${o.bits}` : o.kernel.replace('gemm_', '')
    context.metric(`gops_${key}`, o.achievedOpsPerSecond / 1e9, o.n)
    context.metric(`fraction_of_ceiling_${key}`, o.fractionOfCeiling, o.n)
    if (i === 0) context.param('binding_first_operator', o.binding)
  })
  context.result(study)
}

export default rooflineJob

// A small hand-written DDPG (Lillicrap et al. 2016) on tfjs, as AMC and HAQ use it for the compression search: actor
// and critic MLPs with target copies, a replay buffer and truncated-normal exploration, all serialisable to plain JSON.
import * as tf from '@tensorflow/tfjs'

export interface DdpgOptions {
  stateSize: number
  actionSize: number
  /** Widths of the two hidden layers of both actor and critic. */
  hidden?: [number, number]
  actorLr?: number
  criticLr?: number
  /** L2 weight decay of the critic's parameters, added to its gradients as PyTorch's Adam(weight_decay) does. */
  criticWeightDecay?: number
  /** Soft target update rate: target ← τ·online + (1 − τ)·target after every update. */
  tau?: number
  gamma?: number
  bufferSize?: number
  batchSize?: number
  /** Initial standard deviation of the exploration noise. */
  noiseSigma?: number
  /** Factor sigma is multiplied by at the end of every episode. */
  noiseDecay?: number
  seed: number
}

export interface Transition {
  state: number[]
  action: number[]
  reward: number
  nextState: number[]
  done: boolean
}

/** A tensor's float32 values as base64 (little-endian bytes), ten times smaller in JSON than a list of numbers. */
export interface EncodedTensor {
  shape: number[]
  f32: string
}

export interface AdamState {
  step: number
  m: EncodedTensor[]
  v: EncodedTensor[]
}

export const DDPG_FORMAT = 'benchside-ddpg'

/** Everything a search needs to carry on after a crash exactly as if it had not stopped. */
export interface DdpgState {
  format: typeof DDPG_FORMAT
  version: 1
  stateSize: number
  actionSize: number
  hidden: [number, number]
  /** Per network, each layer's weight then bias. */
  actor: EncodedTensor[]
  critic: EncodedTensor[]
  actorTarget: EncodedTensor[]
  criticTarget: EncodedTensor[]
  actorAdam: AdamState
  criticAdam: AdamState
  buffer: Transition[]
  /** Where the ring buffer writes next. */
  bufferNext: number
  sigma: number
  movingMean: number | null
  /** The mulberry32 generator's state. */
  random: number
}

const DEFAULTS = {
  hidden: [400, 300] as [number, number],
  actorLr: 1e-4,
  criticLr: 1e-3,
  criticWeightDecay: 1e-2,
  tau: 0.001,
  gamma: 0.99,
  bufferSize: 2000,
  batchSize: 128,
  noiseSigma: 0.5,
  noiseDecay: 0.95,
}

/** AMC's and HAQ's moving_alpha: the moving mean reward moves halfway to each batch's mean (it starts at the first). */
const MOVING_ALPHA = 0.5
/** Uniform bound of the output layers' initial weights (AMC's init_w), so the first actions sit near 0.5. */
const OUTPUT_INIT = 3e-3
const ADAM_BETA1 = 0.9
const ADAM_BETA2 = 0.999
const ADAM_EPSILON = 1e-8
/** Rejections before a truncated-normal draw gives up and draws uniformly (its limit for a huge sigma). */
const MAX_REJECTIONS = 1000

type Resolved = Required<DdpgOptions>

function resolveOptions(options: DdpgOptions): Resolved {
  const o: Resolved = { ...DEFAULTS, ...options }
  const fail = (message: string): never => {
    throw new Error(`DDPG options: ${message}`)
  }
  const wholeAtLeast1 = (value: number, name: string): void => {
    if (!Number.isInteger(value) || value < 1) fail(`${name} must be a whole number ≥ 1, got ${value}`)
  }
  wholeAtLeast1(o.stateSize, 'stateSize')
  wholeAtLeast1(o.actionSize, 'actionSize')
  if (o.hidden.length !== 2) fail(`hidden must give two layer widths, got ${o.hidden.length}`)
  o.hidden.forEach((width, i) => wholeAtLeast1(width, `hidden[${i}]`))
  wholeAtLeast1(o.bufferSize, 'bufferSize')
  wholeAtLeast1(o.batchSize, 'batchSize')
  if (o.batchSize > o.bufferSize) fail(`batchSize (${o.batchSize}) must not exceed bufferSize (${o.bufferSize})`)
  for (const name of ['actorLr', 'criticLr'] as const) if (!(o[name] > 0 && Number.isFinite(o[name]))) fail(`${name} must be above 0, got ${o[name]}`)
  if (!(o.criticWeightDecay >= 0 && Number.isFinite(o.criticWeightDecay))) fail(`criticWeightDecay must be ≥ 0, got ${o.criticWeightDecay}`)
  if (!(o.tau > 0 && o.tau <= 1)) fail(`tau must be in (0, 1], got ${o.tau}`)
  if (!(o.gamma >= 0 && o.gamma <= 1)) fail(`gamma must be in [0, 1], got ${o.gamma}`)
  if (!(o.noiseSigma >= 0 && Number.isFinite(o.noiseSigma))) fail(`noiseSigma must be ≥ 0, got ${o.noiseSigma}`)
  if (!(o.noiseDecay > 0 && o.noiseDecay <= 1)) fail(`noiseDecay must be in (0, 1], got ${o.noiseDecay}`)
  if (!Number.isFinite(o.seed)) fail(`seed must be a finite number, got ${o.seed}`)
  return o
}

/** mulberry32 (the same sequence as engine/random.ts's seededRandom) with its one-word state exposed for saving. */
class Mulberry32 {
  state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** Box–Muller; the sine half is dropped so that the generator's state stays one word. */
  normal(): number {
    const u1 = 1 - this.next() // in (0, 1], so the log is finite
    const u2 = this.next()
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
  }
}

interface Dense {
  w: tf.Variable<tf.Rank.R2>
  b: tf.Variable<tf.Rank.R1>
}

const paramsOf = (net: readonly Dense[]): tf.Variable[] => net.flatMap((layer) => [layer.w, layer.b])

/** Hidden layers uniform in ±1/√fanIn (PyTorch's default, AMC's fanin_init); the output layer in ±OUTPUT_INIT. */
function initMlp(random: Mulberry32, sizes: readonly number[], trainable: boolean): Dense[] {
  const net: Dense[] = []
  for (let i = 0; i + 1 < sizes.length; i++) {
    const fanIn = sizes[i]!
    const fanOut = sizes[i + 1]!
    const bound = i + 2 === sizes.length ? OUTPUT_INIT : 1 / Math.sqrt(fanIn)
    const draw = (n: number): Float32Array => Float32Array.from({ length: n }, () => (2 * random.next() - 1) * bound)
    net.push(
      tf.tidy(() => ({
        w: tf.variable(tf.tensor2d(draw(fanIn * fanOut), [fanIn, fanOut]), trainable),
        b: tf.variable(tf.tensor1d(draw(fanOut)), trainable),
      })),
    )
  }
  return net
}

/** ReLU between layers; the output is linear, or squashed to (0, 1) for the actor. */
function forward(net: readonly Dense[], x: tf.Tensor2D, sigmoidOutput: boolean): tf.Tensor2D {
  let h = x
  net.forEach((layer, i) => {
    h = tf.add(tf.matMul(h, layer.w), layer.b)
    if (i + 1 < net.length) h = tf.relu(h)
  })
  return sigmoidOutput ? tf.sigmoid(h) : h
}

/** The critic sees [state, action] concatenated at its input: the same function as AMC's and HAQ's fc11(s) + fc12(a). */
const qValue = (critic: readonly Dense[], state: tf.Tensor2D, action: tf.Tensor2D): tf.Tensor2D => forward(critic, tf.concat([state, action], 1), false)

/** Adam written out (rather than tf.train.adam) so its moments and step can be saved and restored synchronously. */
class Adam {
  step = 0
  readonly m: tf.Variable[]
  readonly v: tf.Variable[]

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly lr: number,
    private readonly weightDecay: number,
  ) {
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)))
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)))
  }

  apply(grads: readonly tf.Tensor[]): void {
    this.step++
    const c1 = 1 - ADAM_BETA1 ** this.step
    const c2 = 1 - ADAM_BETA2 ** this.step
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const m = this.m[i]!
        const v = this.v[i]!
        const g = this.weightDecay > 0 ? tf.add(grads[i]!, tf.mul(p, this.weightDecay)) : grads[i]!
        m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)))
        v.assign(tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2)))
        const denominator = tf.add(tf.sqrt(tf.div(v, c2)), ADAM_EPSILON)
        p.assign(tf.sub(p, tf.mul(tf.div(tf.div(m, c1), denominator), this.lr)))
      })
    })
  }

  toJSON(): AdamState {
    return { step: this.step, m: this.m.map(encode), v: this.v.map(encode) }
  }

  restore(state: AdamState, what: string): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`The saved ${what} optimiser step is not a whole number ≥ 0`)
    assignAll(this.m, state.m, `${what} optimiser first moments`)
    assignAll(this.v, state.v, `${what} optimiser second moments`)
    this.step = state.step
  }
}

function encode(t: tf.Tensor): EncodedTensor {
  const data = t.dataSync() as Float32Array
  return { shape: [...t.shape], f32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') }
}

function assignAll(variables: readonly tf.Variable[], saved: readonly EncodedTensor[], what: string): void {
  if (saved.length !== variables.length) throw new Error(`The saved ${what} have ${saved.length} tensors, expected ${variables.length}`)
  const values = variables.map((variable, i) => {
    const entry = saved[i]!
    const expected = variable.shape.join('×')
    if (entry.shape.join('×') !== expected) throw new Error(`The saved ${what}: tensor ${i} is ${entry.shape.join('×')}, expected ${expected}`)
    const bytes = Buffer.from(entry.f32, 'base64')
    if (bytes.length !== variable.size * 4) throw new Error(`The saved ${what}: tensor ${i} holds ${bytes.length} bytes, expected ${variable.size * 4}`)
    const data = new Float32Array(variable.size)
    new Uint8Array(data.buffer).set(bytes)
    return data
  })
  // Only assign once every tensor has been checked, so a damaged state leaves nothing half restored.
  tf.tidy(() => variables.forEach((variable, i) => variable.assign(tf.tensor(values[i]!, variable.shape))))
}

function checkVector(values: readonly number[], size: number, what: string): void {
  if (values.length !== size) throw new Error(`${what} must have ${size} values, got ${values.length}`)
  const bad = values.findIndex((v) => !Number.isFinite(v))
  if (bad >= 0) throw new Error(`${what}[${bad}] is not a finite number (${values[bad]})`)
}

function checkTransition(t: Transition, stateSize: number, actionSize: number): void {
  checkVector(t.state, stateSize, 'A transition state')
  checkVector(t.nextState, stateSize, 'A transition nextState')
  checkVector(t.action, actionSize, 'A transition action')
  if (t.action.some((a) => a < 0 || a > 1)) throw new Error(`A transition action must lie in [0, 1], got [${t.action.join(', ')}]`)
  if (!Number.isFinite(t.reward)) throw new Error(`A transition reward must be a finite number, got ${t.reward}`)
  if (typeof t.done !== 'boolean') throw new Error('A transition done must be true or false')
}

const copyTransition = (t: Transition): Transition => ({
  state: [...t.state],
  action: [...t.action],
  reward: t.reward,
  nextState: [...t.nextState],
  done: t.done,
})

export class Ddpg {
  readonly options: Readonly<Resolved>
  private readonly random: Mulberry32
  private readonly actor: Dense[]
  private readonly critic: Dense[]
  private readonly actorTarget: Dense[]
  private readonly criticTarget: Dense[]
  private readonly actorAdam: Adam
  private readonly criticAdam: Adam
  private buffer: Transition[] = []
  private bufferNext = 0
  private noise: number
  private movingMean: number | null = null
  private disposed = false

  constructor(options: DdpgOptions) {
    const o = resolveOptions(options)
    this.options = o
    this.random = new Mulberry32(o.seed)
    this.noise = o.noiseSigma
    const [h1, h2] = o.hidden
    this.actor = initMlp(this.random, [o.stateSize, h1, h2, o.actionSize], true)
    this.critic = initMlp(this.random, [o.stateSize + o.actionSize, h1, h2, 1], true)
    this.actorTarget = initMlp(this.random, [o.stateSize, h1, h2, o.actionSize], false)
    this.criticTarget = initMlp(this.random, [o.stateSize + o.actionSize, h1, h2, 1], false)
    // The targets start as exact copies (AMC's hard_update).
    Ddpg.copy(this.actor, this.actorTarget, 1)
    Ddpg.copy(this.critic, this.criticTarget, 1)
    this.actorAdam = new Adam(paramsOf(this.actor), o.actorLr, 0)
    this.criticAdam = new Adam(paramsOf(this.critic), o.criticLr, o.criticWeightDecay)
  }

  /** The current exploration standard deviation. */
  get sigma(): number {
    return this.noise
  }

  /** Transitions in the replay buffer. */
  get bufferLength(): number {
    return this.buffer.length
  }

  /**
   * The actor's action in [0,1]^n; with explore, each component drawn from a normal around it with the current sigma,
   * truncated to [0,1] by resampling (not clipping), as HAQ does.
   */
  act(state: number[], explore: boolean): number[] {
    this.alive()
    checkVector(state, this.options.stateSize, 'The state')
    const mu = tf.tidy(() => Array.from(forward(this.actor, tf.tensor2d(state, [1, state.length]), true).dataSync()))
    return explore ? mu.map((m) => this.truncatedNormal(m)) : mu
  }

  /** Uniform in [0,1]^n from the seeded generator (the warm-up episodes' actions). */
  randomAction(): number[] {
    this.alive()
    return Array.from({ length: this.options.actionSize }, () => this.random.next())
  }

  /** Stores a copy of the transition; once bufferSize are held, the oldest is overwritten. */
  remember(t: Transition): void {
    this.alive()
    checkTransition(t, this.options.stateSize, this.options.actionSize)
    const copy = copyTransition(t)
    if (this.buffer.length < this.options.bufferSize) this.buffer.push(copy)
    else this.buffer[this.bufferNext] = copy
    this.bufferNext = (this.bufferNext + 1) % this.options.bufferSize
  }

  /**
   * One Adam step for the critic, then for the actor (against the updated critic), on batchSize transitions drawn
   * without replacement; then the soft target updates. Null, changing nothing, while the buffer holds fewer than
   * batchSize transitions, so every step sees a full batch. Rewards are centred on a moving mean first (AMC/HAQ:
   * mean += 0.5·(batch mean − mean)). criticLoss is the TD mean squared error (without the weight decay); actorLoss is
   * −mean Q(s, μ(s)).
   */
  update(): { criticLoss: number; actorLoss: number } | null {
    this.alive()
    const { batchSize: n, gamma, tau } = this.options
    if (this.buffer.length < n) return null
    const batch = this.sample(n)
    const batchMean = batch.reduce((sum, t) => sum + t.reward, 0) / n
    const movingMean = this.movingMean === null ? batchMean : this.movingMean + MOVING_ALPHA * (batchMean - this.movingMean)
    this.movingMean = movingMean
    const [criticLoss, actorLoss] = tf.tidy(() => {
      const s = tf.tensor2d(batch.map((t) => t.state))
      const a = tf.tensor2d(batch.map((t) => t.action))
      const r = tf.tensor2d(batch.map((t) => [t.reward - movingMean]))
      const s2 = tf.tensor2d(batch.map((t) => t.nextState))
      const notDone = tf.tensor2d(batch.map((t) => [t.done ? 0 : 1]))
      const nextQ = qValue(this.criticTarget, s2, forward(this.actorTarget, s2, true))
      const y = tf.add(r, tf.mul(tf.mul(nextQ, notDone), gamma))

      const criticParams = paramsOf(this.critic)
      const critic = tf.variableGrads(() => tf.mean(tf.squaredDifference(qValue(this.critic, s, a), y)), criticParams)
      this.criticAdam.apply(criticParams.map((p) => critic.grads[p.name]!))

      const actorParams = paramsOf(this.actor)
      const actor = tf.variableGrads(() => tf.neg(tf.mean<tf.Scalar>(qValue(this.critic, s, forward(this.actor, s, true)))), actorParams)
      this.actorAdam.apply(actorParams.map((p) => actor.grads[p.name]!))

      Ddpg.copy(this.actor, this.actorTarget, tau)
      Ddpg.copy(this.critic, this.criticTarget, tau)
      return [critic.value.dataSync()[0]!, actor.value.dataSync()[0]!]
    })
    return { criticLoss, actorLoss }
  }

  /** Ends an episode: the exploration noise decays (sigma ← sigma·noiseDecay). */
  endEpisode(): void {
    this.alive()
    this.noise *= this.options.noiseDecay
  }

  /** Everything needed to continue after a crash, Adam moments included, as plain JSON. */
  toJSON(): DdpgState {
    this.alive()
    const { stateSize, actionSize, hidden } = this.options
    const weights = (net: readonly Dense[]): EncodedTensor[] => paramsOf(net).map(encode)
    return {
      format: DDPG_FORMAT,
      version: 1,
      stateSize,
      actionSize,
      hidden: [hidden[0], hidden[1]],
      actor: weights(this.actor),
      critic: weights(this.critic),
      actorTarget: weights(this.actorTarget),
      criticTarget: weights(this.criticTarget),
      actorAdam: this.actorAdam.toJSON(),
      criticAdam: this.criticAdam.toJSON(),
      buffer: this.buffer.map(copyTransition),
      bufferNext: this.bufferNext,
      sigma: this.noise,
      movingMean: this.movingMean,
      random: this.random.state,
    }
  }

  /** An agent continuing from a saved state; options must give the same sizes (learning rates etc. may change). */
  static fromJSON(state: DdpgState, options: DdpgOptions): Ddpg {
    if (state.format !== DDPG_FORMAT || state.version !== 1) {
      throw new Error(`Not a saved DDPG agent (format ${String(state.format)}, version ${String(state.version)})`)
    }
    const agent = new Ddpg(options)
    try {
      agent.restore(state)
    } catch (error) {
      agent.dispose()
      throw error
    }
    return agent
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const net of [this.actor, this.critic, this.actorTarget, this.criticTarget]) tf.dispose(paramsOf(net))
    for (const adam of [this.actorAdam, this.criticAdam]) tf.dispose([...adam.m, ...adam.v])
  }

  private restore(state: DdpgState): void {
    const o = this.options
    const sizes = `${state.stateSize}/${state.actionSize}/${state.hidden.join('×')}`
    if (sizes !== `${o.stateSize}/${o.actionSize}/${o.hidden.join('×')}`) {
      throw new Error(`The saved DDPG agent has state/action/hidden sizes ${sizes}, the options ${o.stateSize}/${o.actionSize}/${o.hidden.join('×')}`)
    }
    if (state.buffer.length > o.bufferSize) {
      throw new Error(`The saved replay buffer holds ${state.buffer.length} transitions, more than bufferSize ${o.bufferSize}`)
    }
    if (!Number.isInteger(state.bufferNext) || state.bufferNext < 0 || state.bufferNext >= o.bufferSize) {
      throw new Error(`The saved bufferNext ${state.bufferNext} is out of range`)
    }
    state.buffer.forEach((t) => checkTransition(t, o.stateSize, o.actionSize))
    if (!(state.sigma >= 0 && Number.isFinite(state.sigma))) throw new Error(`The saved sigma ${state.sigma} is not a number ≥ 0`)
    if (state.movingMean !== null && !Number.isFinite(state.movingMean)) throw new Error(`The saved moving mean ${state.movingMean} is not finite`)
    if (!Number.isInteger(state.random) || state.random < 0 || state.random > 0xffffffff) {
      throw new Error(`The saved generator state ${state.random} is not a uint32`)
    }
    assignAll(paramsOf(this.actor), state.actor, 'actor weights')
    assignAll(paramsOf(this.critic), state.critic, 'critic weights')
    assignAll(paramsOf(this.actorTarget), state.actorTarget, 'target actor weights')
    assignAll(paramsOf(this.criticTarget), state.criticTarget, 'target critic weights')
    this.actorAdam.restore(state.actorAdam, 'actor')
    this.criticAdam.restore(state.criticAdam, 'critic')
    this.buffer = state.buffer.map(copyTransition)
    this.bufferNext = state.bufferNext
    this.noise = state.sigma
    this.movingMean = state.movingMean
    this.random.state = state.random
  }

  /** target ← τ·source + (1 − τ)·target, layer by layer (τ = 1 copies). */
  private static copy(source: readonly Dense[], target: readonly Dense[], tau: number): void {
    const from = paramsOf(source)
    tf.tidy(() => paramsOf(target).forEach((t, i) => t.assign(tau === 1 ? from[i]! : tf.add(tf.mul(from[i]!, tau), tf.mul(t, 1 - tau)))))
  }

  /** n distinct transitions, by a partial Fisher–Yates shuffle of the buffer's indices. */
  private sample(n: number): Transition[] {
    const indices = Array.from({ length: this.buffer.length }, (_, i) => i)
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.random.next() * (indices.length - i))
      ;[indices[i], indices[j]] = [indices[j]!, indices[i]!]
    }
    return indices.slice(0, n).map((i) => this.buffer[i]!)
  }

  private truncatedNormal(mu: number): number {
    if (this.noise === 0) return mu
    for (let i = 0; i < MAX_REJECTIONS; i++) {
      const x = mu + this.noise * this.random.normal()
      if (x >= 0 && x <= 1) return x
    }
    return this.random.next()
  }

  private alive(): void {
    if (this.disposed) throw new Error('This DDPG agent has been disposed')
  }
}

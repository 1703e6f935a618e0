import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { Ddpg, type DdpgOptions, type DdpgState } from '../../../../src-main/engine/compression/ddpg.ts'
import { seededRandom } from '../../../../src-main/engine/random.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

/** A contextual bandit: the best action is the state itself (reward 1); a uniformly random action averages 1/3. */
const rewardOf = (a: number, x: number): number => 1 - 4 * (a - x) ** 2

/** Mean reward of the greedy policy over 100 fresh states. */
function greedyMean(agent: Ddpg, seed: number): number {
  const random = seededRandom(seed)
  let sum = 0
  for (let i = 0; i < 100; i++) {
    const x = random()
    sum += rewardOf(agent.act([x], false)[0]!, x)
  }
  return sum / 100
}

function std(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length)
}

const SMALL: DdpgOptions = { stateSize: 3, actionSize: 2, hidden: [16, 8], batchSize: 8, bufferSize: 50, seed: 11 }

function fill(agent: Ddpg, count: number, seed: number): void {
  const random = seededRandom(seed)
  for (let i = 0; i < count; i++) {
    const state = [random(), random(), random()]
    agent.remember({ state, action: [random(), random()], reward: random() - 0.5, nextState: [random(), random(), random()], done: i % 5 === 4 })
  }
}

describe('Ddpg', () => {
  it('learns a contextual bandit whose best action depends on the state', () => {
    const agent = new Ddpg({
      stateSize: 1,
      actionSize: 1,
      hidden: [32, 32],
      actorLr: 1e-3,
      criticLr: 1e-2,
      tau: 0.01,
      batchSize: 32,
      bufferSize: 1000,
      noiseDecay: 0.99,
      seed: 3,
    })
    try {
      const before = greedyMean(agent, 99)
      const random = seededRandom(7)
      for (let step = 0; step < 600; step++) {
        const x = random()
        const action = step < 100 ? agent.randomAction() : agent.act([x], true)
        agent.remember({ state: [x], action, reward: rewardOf(action[0]!, x), nextState: [x], done: true })
        agent.update()
        if (step % 20 === 19) agent.endEpisode()
      }
      const after = greedyMean(agent, 99)
      // Seen: 0.686 before (actions all near 0.5), 0.99 after 300–500 steps (also for seeds 1, 2, 5); random ≈ 0.33.
      expect(before).toBeLessThan(0.75)
      expect(after).toBeGreaterThan(0.95)
      expect(after - before).toBeGreaterThan(0.2)
    } finally {
      agent.dispose()
    }
  })

  it('explores with a truncated normal whose spread shrinks as episodes end', () => {
    const agent = new Ddpg({ ...SMALL, noiseSigma: 0.5, noiseDecay: 0.95 })
    try {
      const state = [0.2, 0.4, 0.6]
      const mu = agent.act(state, false)
      const draw = (): number[][] => Array.from({ length: 2000 }, () => agent.act(state, true))
      const wide = draw()
      for (let i = 0; i < 30; i++) agent.endEpisode()
      expect(agent.sigma).toBeCloseTo(0.5 * 0.95 ** 30, 12)
      const narrow = draw()
      for (const actions of [wide, narrow]) {
        for (const a of actions.flat()) {
          expect(a).toBeGreaterThanOrEqual(0)
          expect(a).toBeLessThanOrEqual(1)
        }
        // Clipping would pile about a third of the wide draws onto exactly 0 or 1; resampling puts none there.
        expect(actions.flat().filter((a) => a === 0 || a === 1)).toHaveLength(0)
      }
      for (let c = 0; c < 2; c++) {
        expect(mu[c]!).toBeGreaterThan(0.45) // small output weights: the untrained actor sits near 0.5
        expect(mu[c]!).toBeLessThan(0.55)
        const wideStd = std(wide.map((a) => a[c]!))
        const narrowStd = std(narrow.map((a) => a[c]!))
        // N(0.5, 0.5²) truncated to [0,1] has std ≈ 0.26; at sigma 0.107 truncation barely matters.
        expect(wideStd).toBeGreaterThan(0.22)
        expect(wideStd).toBeLessThan(0.3)
        expect(narrowStd).toBeGreaterThan(0.9 * agent.sigma)
        expect(narrowStd).toBeLessThan(1.1 * agent.sigma)
      }
    } finally {
      agent.dispose()
    }
  })

  it('draws uniform random actions from its seed', () => {
    const a = new Ddpg(SMALL)
    const b = new Ddpg(SMALL)
    const c = new Ddpg({ ...SMALL, seed: 12 })
    try {
      const draws = Array.from({ length: 500 }, () => a.randomAction())
      expect(draws.every((d) => d.length === 2 && d.every((v) => v >= 0 && v < 1))).toBe(true)
      expect(Array.from({ length: 500 }, () => b.randomAction())).toEqual(draws)
      expect(c.randomAction()).not.toEqual(draws[0])
      const mean = draws.flat().reduce((s, v) => s + v, 0) / 1000
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.03)
    } finally {
      a.dispose()
      b.dispose()
      c.dispose()
    }
  })

  it('continues exactly where it left off after toJSON → JSON text → fromJSON', () => {
    const original = new Ddpg(SMALL)
    fill(original, 30, 5)
    for (let i = 0; i < 3; i++) original.update()
    original.endEpisode()
    const text = JSON.stringify(original.toJSON())
    const restored = Ddpg.fromJSON(JSON.parse(text) as DdpgState, SMALL)
    try {
      expect(restored.sigma).toBe(original.sigma)
      expect(restored.bufferLength).toBe(30)
      const states = [
        [0, 0, 0],
        [0.3, 0.9, 0.1],
        [1, 1, 1],
      ]
      for (const s of states) expect(restored.act(s, false)).toEqual(original.act(s, false))
      expect(restored.randomAction()).toEqual(original.randomAction())
      expect(restored.act(states[1]!, true)).toEqual(original.act(states[1]!, true))
      // The buffer, the generator (batch sampling), the moving mean, the Adam moments and the targets all came back.
      const losses = original.update()
      expect(losses).not.toBeNull()
      expect(restored.update()).toEqual(losses)
      for (const s of states) expect(restored.act(s, false)).toEqual(original.act(s, false))
      expect(JSON.stringify(restored.toJSON())).toBe(JSON.stringify(original.toJSON()))
    } finally {
      original.dispose()
      restored.dispose()
    }
  })

  it('refuses a saved state that does not fit the options, leaking nothing', () => {
    const agent = new Ddpg(SMALL)
    const state = agent.toJSON()
    agent.dispose()
    const tensors = tf.memory().numTensors
    expect(() => Ddpg.fromJSON(state, { ...SMALL, hidden: [16, 9] })).toThrow(/sizes 3\/2\/16×8, the options 3\/2\/16×9/)
    expect(() => Ddpg.fromJSON({ ...state, critic: state.critic.slice(1) }, SMALL)).toThrow(/critic weights have 5 tensors, expected 6/)
    expect(() => Ddpg.fromJSON({ ...state, actor: [{ ...state.actor[0]!, f32: 'AAAA' }, ...state.actor.slice(1)] }, SMALL)).toThrow(
      /holds 3 bytes, expected 192/,
    )
    expect(() => Ddpg.fromJSON({ ...state, format: 'other' } as unknown as DdpgState, SMALL)).toThrow(/Not a saved DDPG agent/)
    expect(tf.memory().numTensors).toBe(tensors)
  })

  it('keeps a ring buffer and does not update before it holds a batch', () => {
    const agent = new Ddpg({ ...SMALL, bufferSize: 10 })
    try {
      fill(agent, 7, 1)
      expect(agent.update()).toBeNull()
      fill(agent, 1, 2)
      expect(agent.update()).not.toBeNull()
      fill(agent, 5, 3)
      expect(agent.bufferLength).toBe(10)
      const state = agent.toJSON()
      expect(state.bufferNext).toBe(3)
      // Slots 0–2 were overwritten by the last three transitions of the third fill.
      const random = seededRandom(3)
      const thirdFill = Array.from({ length: 5 }, () => {
        const s = [random(), random(), random()]
        random()
        random()
        random()
        random()
        random()
        random()
        return s
      })
      expect(state.buffer.slice(0, 3).map((t) => t.state)).toEqual(thirdFill.slice(2))
      expect(() => agent.remember({ state: [1, 2], action: [0, 0], reward: 0, nextState: [1, 2, 3], done: true })).toThrow(/state must have 3 values, got 2/)
      expect(() => agent.remember({ state: [1, 2, 3], action: [0, 1.5], reward: 0, nextState: [1, 2, 3], done: true })).toThrow(/action must lie in \[0, 1\]/)
      expect(() => agent.remember({ state: [1, 2, 3], action: [0, 1], reward: NaN, nextState: [1, 2, 3], done: true })).toThrow(
        /reward must be a finite number/,
      )
      expect(() => agent.act([0, Infinity, 0], false)).toThrow(/The state\[1\] is not a finite number/)
    } finally {
      agent.dispose()
    }
  })

  it('moves the target networks toward the online ones by tau', () => {
    const copying = new Ddpg({ ...SMALL, tau: 1 })
    const slow = new Ddpg({ ...SMALL, tau: 0.01 })
    try {
      for (const agent of [copying, slow]) fill(agent, 20, 6)
      const before = slow.toJSON()
      copying.update()
      slow.update()
      const c = copying.toJSON()
      expect(c.actorTarget).toEqual(c.actor)
      expect(c.criticTarget).toEqual(c.critic)
      const s = slow.toJSON()
      expect(s.actor).not.toEqual(before.actor)
      expect(s.actorTarget).not.toEqual(before.actorTarget)
      expect(s.actorTarget).not.toEqual(s.actor)
      expect(s.criticTarget).not.toEqual(before.criticTarget)
    } finally {
      copying.dispose()
      slow.dispose()
    }
  })

  it('bootstraps from the target critic only for transitions that are not done', () => {
    const firstLoss = (gamma: number, done: boolean): number => {
      const agent = new Ddpg({ ...SMALL, gamma })
      try {
        for (let i = 0; i < 8; i++) agent.remember({ state: [i / 8, 0.5, 0], action: [0.5, 0.5], reward: i % 2, nextState: [0, 0, i / 8], done })
        return agent.update()!.criticLoss
      } finally {
        agent.dispose()
      }
    }
    expect(firstLoss(0.99, true)).toBe(firstLoss(0, true))
    expect(firstLoss(0.99, false)).not.toBe(firstLoss(0, false))
    expect(firstLoss(0, false)).toBe(firstLoss(0, true))
  })

  it('does not leak tensors over updates and frees them all on dispose', () => {
    const start = tf.memory().numTensors
    const agent = new Ddpg(SMALL)
    fill(agent, 50, 4)
    const afterConstruction = tf.memory().numTensors
    expect(afterConstruction).toBeGreaterThan(start)
    for (let i = 0; i < 50; i++) {
      agent.update()
      agent.act([0.1, 0.2, 0.3], true)
    }
    agent.toJSON()
    expect(tf.memory().numTensors).toBe(afterConstruction)
    agent.dispose()
    expect(tf.memory().numTensors).toBe(start)
    expect(() => agent.update()).toThrow(/disposed/)
  })

  it('refuses bad options with a clear message', () => {
    expect(() => new Ddpg({ ...SMALL, stateSize: 0 })).toThrow('DDPG options: stateSize must be a whole number ≥ 1, got 0')
    expect(() => new Ddpg({ ...SMALL, actionSize: 0 })).toThrow('DDPG options: actionSize must be a whole number ≥ 1, got 0')
    expect(() => new Ddpg({ ...SMALL, hidden: [16, 0] })).toThrow(/hidden\[1\] must be a whole number/)
    expect(() => new Ddpg({ ...SMALL, batchSize: 60 })).toThrow(/batchSize \(60\) must not exceed bufferSize \(50\)/)
    expect(() => new Ddpg({ ...SMALL, tau: 0 })).toThrow(/tau must be in \(0, 1\]/)
    expect(() => new Ddpg({ ...SMALL, actorLr: -1 })).toThrow(/actorLr must be above 0/)
  })
})

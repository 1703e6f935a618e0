import { beforeAll, describe, it, expect } from 'vitest'
describe('needs x', { skip: true, meta: { requires: ['x'] } as any }, () => {
  beforeAll(() => { throw new Error('hook ran') })
  it('t1', () => {})
  describe('inner', () => { it('t2', () => {}) })
})
it('single', { skip: true, meta: { requires: ['y'] } as any }, () => {})
it('ctx skip', (ctx) => { ctx.skip('no z') })
describe('hook fails', () => {
  beforeAll(() => { throw new Error('socat could not be started') })
  it('h1', () => {})
  it('h2', () => {})
})

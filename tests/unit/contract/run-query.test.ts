// The run query language's parser: the tree it builds, what each field accepts, and errors that point at the column.
import { describe, expect, it } from 'vitest'
import {
  BenchsideError,
  MAX_QUERY_COMPARISONS,
  MAX_QUERY_DEPTH,
  RunQueryError,
  parseRunField,
  parseRunQuery,
  runFieldText,
  type QueryComparison,
  type QueryNode,
} from '../../../src-main/contract/index.ts'

/** The error a query is refused with. */
function refused(query: string): RunQueryError {
  try {
    parseRunQuery(query)
  } catch (error) {
    expect(error).toBeInstanceOf(RunQueryError)
    return error as RunQueryError
  }
  throw new Error(`expected '${query}' to be refused, but it parsed`)
}

/** A one-comparison query's comparison. */
function single(query: string): QueryComparison {
  const node = parseRunQuery(query)
  expect(node?.type).toBe('comparison')
  return node as QueryComparison
}

/** The tree with only what the shape tests look at: `field op value` strings at the leaves. */
function shape(node: QueryNode | null): unknown {
  if (node === null) return null
  switch (node.type) {
    case 'and':
    case 'or':
      return { [node.type]: node.operands.map(shape) }
    case 'not':
      return { not: shape(node.operand) }
    case 'comparison': {
      const v = node.value
      const value = v.type === 'time' ? `${v.from}..${v.to}` : String(v.value)
      return `${runFieldText(node.field)} ${node.op} ${value}`
    }
  }
}

describe('parseRunQuery', () => {
  it('reads an empty or blank query as no filter', () => {
    expect(parseRunQuery('')).toBeNull()
    expect(parseRunQuery('   \n\t')).toBeNull()
  })

  it('binds and tighter than or, and brackets override it', () => {
    expect(shape(parseRunQuery('params.a = 1 or params.b = 2 and params.c = 3'))).toEqual({
      or: ['params.a = 1', { and: ['params.b = 2', 'params.c = 3'] }],
    })
    expect(shape(parseRunQuery('(params.a = 1 or params.b = 2) and params.c = 3'))).toEqual({
      and: [{ or: ['params.a = 1', 'params.b = 2'] }, 'params.c = 3'],
    })
  })

  it('chains and / or flat, and nests not', () => {
    expect(shape(parseRunQuery('tags = a and tags = b and tags = c'))).toEqual({ and: ['tags = a', 'tags = b', 'tags = c'] })
    expect(shape(parseRunQuery('not not tags = a or not (tags = b)'))).toEqual({ or: [{ not: { not: 'tags = a' } }, { not: 'tags = b' }] })
  })

  it('takes keywords and field names in any case, keys and values as written', () => {
    expect(shape(parseRunQuery('PARAMS.LR >= 1 AND Not Metrics.Acc < 2 oR KIND = Train'))).toEqual({
      or: [{ and: ['params.LR >= 1', { not: 'metrics.Acc < 2' }] }, 'kind = Train'],
    })
  })

  it('needs no spaces around operators', () => {
    expect(shape(parseRunQuery('params.x>=0.5 and(metrics.y<1)'))).toEqual({ and: ['params.x >= 0.5', 'metrics.y < 1'] })
  })

  it('reads numbers: integers, decimals, exponents, signs', () => {
    for (const [text, value] of [
      ['3', 3],
      ['-0.5', -0.5],
      ['.25', 0.25],
      ['1e-3', 0.001],
      ['+2.5E+4', 25_000],
      ['-1e3', -1000],
    ] as const) {
      expect(single(`metrics.m > ${text}`).value, text).toEqual({ type: 'number', value, text })
    }
  })

  it('reads quoted text with escapes and doubled quotes, and bare words as text', () => {
    expect(single(`name = 'it''s'`).value).toEqual({ type: 'text', value: "it's" })
    expect(single(`name = "say ""hi"""`).value).toEqual({ type: 'text', value: 'say "hi"' })
    expect(single(String.raw`name = 'a\'b\\c\nd\te'`).value).toEqual({ type: 'text', value: "a'b\\c\nd\te" })
    expect(single(`params.flag = true`).value).toEqual({ type: 'text', value: 'true' })
    expect(single(`params.architecture = lenet5`).value).toEqual({ type: 'text', value: 'lenet5' })
    // Quoted, a number is text: the param is compared as text.
    expect(single(`params.bits = '8'`).value).toEqual({ type: 'text', value: '8' })
  })

  it('reads backquoted keys with dots, spaces and escaped backquotes; bare keys may hold dots', () => {
    expect(single('params.`noise.sigma` >= 1e-3').field).toEqual({ kind: 'param', key: 'noise.sigma' })
    expect(single('metrics.`val acc` > 0.5').field).toEqual({ kind: 'metric', key: 'val acc' })
    expect(single('params.`a\\`b` = 1').field).toEqual({ kind: 'param', key: 'a`b' })
    expect(single('params.model.depth = 3').field).toEqual({ kind: 'param', key: 'model.depth' })
  })

  it('reads tags and every attribute', () => {
    expect(single('tags = baseline').field).toEqual({ kind: 'tags' })
    for (const name of ['name', 'kind', 'experiment'] as const) expect(single(`${name} ~ x`).field).toEqual({ kind: 'attribute', name })
    expect(single('status = failed')).toMatchObject({ field: { kind: 'attribute', name: 'status' }, value: { type: 'text', value: 'FAILED' } })
    expect(single('status ~ fail').value).toEqual({ type: 'text', value: 'fail' })
  })

  it('reads times as the span they name, in local time', () => {
    const day = new Date(2026, 2, 1).getTime()
    expect(single('created = 2026-03-01').value).toEqual({ type: 'time', from: day, to: new Date(2026, 2, 2).getTime() })
    expect(single(`started < '2026-03-01 14:30'`).value).toEqual({
      type: 'time',
      from: new Date(2026, 2, 1, 14, 30).getTime(),
      to: new Date(2026, 2, 1, 14, 31).getTime(),
    })
    expect(single('created >= 2026-03-01T14:30:05').value).toMatchObject({ to: new Date(2026, 2, 1, 14, 30, 6).getTime() })
    expect(single('created > 1700000000000').value).toEqual({ type: 'time', from: 1_700_000_000_000, to: 1_700_000_000_001 })
  })

  it('reads durations in seconds or with a unit', () => {
    expect(single('duration > 90').value).toMatchObject({ value: 90 })
    expect(single('duration > 500ms').value).toMatchObject({ value: 0.5 })
    expect(single('duration < 5m').value).toMatchObject({ value: 300 })
    expect(single('duration >= 2h').value).toMatchObject({ value: 7200 })
    expect(single('duration <= 1.5d').value).toMatchObject({ value: 129_600 })
  })

  it('records the column of each comparison', () => {
    const node = parseRunQuery('tags = a and  metrics.m > 1')
    expect(node).toMatchObject({ type: 'and', operands: [{ column: 1 }, { column: 15 }] })
  })
})

describe('parseRunQuery errors', () => {
  it('points at the end of the query when a value is missing, with the query and a caret', () => {
    const query = 'params.noise_sigma > 0.5 and metrics.acc >'
    const error = refused(query)
    expect(error).toBeInstanceOf(BenchsideError)
    expect(error.code).toBe('INVALID_ARGS')
    expect(error.field).toBe('where')
    expect(error.column).toBe(43)
    expect(error.reason).toBe("expected a value after '>', found the end of the query.")
    const [sentence, shown, caret] = error.message.split('\n')
    expect(sentence).toBe("At column 43: expected a value after '>', found the end of the query.")
    expect(shown).toBe(`  ${query}`)
    expect(caret).toBe(`  ${' '.repeat(42)}^`)
  })

  it.each([
    ['foo = 1', 1, /unknown field 'foo'; use params\.<key>, metrics\.<key>, tags/],
    ['param.lr = 1', 1, /did you mean 'params\.lr'\?/],
    ['tag = x', 1, /did you mean 'tags'/],
    ['params. = 1', 1, /give a key after 'params\.'/],
    ['params.x 1', 10, /expected an operator \(= != < <= > >= ~\) after 'params\.x', found '1'/],
    ['params.x == 1', 10, /write = to compare for equality/],
    ['params.x <> 1', 10, /write != for 'not equal'/],
    ['params.x ! 1', 10, /'!' is not an operator/],
    ['params.x = 1 metrics.y > 2', 14, /expected 'and', 'or' or the end of the query, found 'metrics\.y'/],
    ['(params.x = 1', 14, /expected '\)' to close the '\(' at column 1, found the end of the query/],
    ['params.x = 1)', 13, /this '\)' closes no '\('/],
    ['params.x = 1 and', 17, /expected a field .*found the end of the query/],
    ['and params.x = 1', 1, /expected a field .*found 'and'/],
    ["name = 'abc", 8, /the text starting here is never closed; end it with '/],
    ['params.`abc = 1', 8, /the key starting here is never closed/],
    ["name = 'a\\qb'", 10, /'\\q' is not an escape/],
    ['`x` = 1', 1, /backquotes quote a key right after params\. or metrics\./],
    ['params.x = or', 12, /found the keyword 'or'; quote it/],
    ['metrics.acc > high', 15, /metrics\.acc holds numbers; compare it with a number/],
    ["metrics.acc = '0.5'", 15, /holds numbers/],
    ['metrics.acc ~ 5', 15, /compare it with =, !=, <, <=, > or >=, not ~/],
    ['status = finshed', 10, /'finshed' is not a status; use one of SCHEDULED, RUNNING, FINISHED/],
    ['status > failed', 10, /status can be compared with =, != or ~, not >/],
    ['tags < a', 8, /tags can be compared with =, != or ~, not </],
    ['created > yesterday', 11, /created takes a date \(2026-03-01\)/],
    ['created > 2026-02-30', 11, /created takes a date/],
    ['started ~ 2026', 11, /started is a time/],
    ['duration > soon', 12, /duration takes seconds, or a number with a unit/],
    ['metrics.m > 1e999', 13, /1e999 is too large a number/],
    ['params.x = params.`y`', 12, /found a field/],
  ])('%s → column %i', (query, column, reason) => {
    const error = refused(query)
    expect(error.column).toBe(column)
    expect(error.message).toMatch(new RegExp(`^At column ${column}: `))
    expect(error.reason).toMatch(reason)
    // The caret sits under the column.
    expect(error.message.split('\n')[2]!.indexOf('^')).toBe(2 + column - 1)
  })

  it(`accepts ${MAX_QUERY_DEPTH} levels of brackets and refuses one more`, () => {
    const nested = (levels: number) => '('.repeat(levels) + 'tags = a' + ')'.repeat(levels)
    expect(parseRunQuery(nested(MAX_QUERY_DEPTH))).not.toBeNull()
    expect(refused(nested(MAX_QUERY_DEPTH + 1)).reason).toMatch(/nests deeper than 32 levels/)
    expect(parseRunQuery('not '.repeat(MAX_QUERY_DEPTH) + 'tags = a')).not.toBeNull()
    expect(refused('not '.repeat(MAX_QUERY_DEPTH + 1) + 'tags = a').reason).toMatch(/nests deeper than 32 levels/)
  })

  it(`accepts ${MAX_QUERY_COMPARISONS} comparisons and refuses one more, at the one too many`, () => {
    const query = (n: number) => Array.from({ length: n }, (_, i) => `params.p${i} = ${i}`).join(' or ')
    expect(parseRunQuery(query(MAX_QUERY_COMPARISONS))).toMatchObject({ type: 'or' })
    const error = refused(query(MAX_QUERY_COMPARISONS + 1))
    expect(error.reason).toMatch(/more than 64 comparisons/)
    expect(error.column).toBe(query(MAX_QUERY_COMPARISONS).length + ' or '.length + 1)
  })

  it('shows the part of a long query around the column', () => {
    const query = Array.from({ length: 20 }, (_, i) => `params.key${i} = ${i}`).join(' and ') + ' and'
    const error = refused(query)
    const [, shown, caret] = error.message.split('\n')
    expect(shown!.length).toBeLessThan(80)
    expect(shown).toMatch(/^ {2}….*and$/)
    // The caret sits just past the last character shown: the end of the query.
    expect(caret!.length).toBe(shown!.length + 1)
  })
})

describe('parseRunField and runFieldText', () => {
  it('reads one field and writes it back, quoting keys that need it', () => {
    for (const text of ['params.lr', 'metrics.test_accuracy', 'params.`noise sigma`', 'metrics.`a\\`b`', 'tags', 'duration']) {
      expect(runFieldText(parseRunField(text))).toBe(text)
    }
    expect(parseRunField('Metrics.Loss')).toEqual({ kind: 'metric', key: 'Loss' })
  })

  it('refuses anything but a single field, naming the argument', () => {
    for (const text of ['params.x = 1', 'nonsense', '', 'params.']) {
      const error = (() => {
        try {
          parseRunField(text, 'columns')
        } catch (e) {
          return e as BenchsideError
        }
        throw new Error(`'${text}' parsed`)
      })()
      expect(error.code).toBe('INVALID_ARGS')
      expect(error.field).toBe('columns')
      expect(error.message).toMatch(/^Invalid argument 'columns': /)
    }
  })
})

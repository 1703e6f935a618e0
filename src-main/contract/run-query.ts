// The run query language (docs/run-query.md): the filter a user types over the run table, read into a small tree.
// Pure TypeScript: the renderer imports it to check a query as it is typed, the store compiles the tree into SQL with
// every value and key bound as a parameter. Errors are one sentence that names the column, then the query with a caret.
import { BenchsideError } from './define.ts'
import { RunStatus } from './runs.ts'

export const RUN_ATTRIBUTES = ['name', 'kind', 'status', 'experiment', 'created', 'started', 'duration'] as const
export type RunAttribute = (typeof RUN_ATTRIBUTES)[number]

export const QUERY_OPERATORS = ['=', '!=', '<', '<=', '>', '>=', '~'] as const
export type QueryOperator = (typeof QUERY_OPERATORS)[number]

/** What a comparison looks at: a param or metric by key, the run's tags, or one of its attributes. */
export type QueryField = { kind: 'param'; key: string } | { kind: 'metric'; key: string } | { kind: 'tags' } | { kind: 'attribute'; name: RunAttribute }

/**
 * A literal as the field it is compared with reads it: numbers keep the text typed (a param compared with `~` looks
 * for that text); times are the span the literal names, [from, to) in ms since the epoch (a day, a minute, a second,
 * or one millisecond for a plain number), so `created = 2026-03-01` means "during that day".
 */
export type QueryValue = { type: 'number'; value: number; text: string } | { type: 'text'; value: string } | { type: 'time'; from: number; to: number }

export interface QueryComparison {
  type: 'comparison'
  field: QueryField
  op: QueryOperator
  value: QueryValue
  /** 1-based column of the field in the query, for messages. */
  column: number
}

export type QueryNode = QueryComparison | { type: 'and'; operands: QueryNode[] } | { type: 'or'; operands: QueryNode[] } | { type: 'not'; operand: QueryNode }

/** Bounds that keep a typed (or pasted) query from becoming a pathological SQL statement. */
export const MAX_QUERY_DEPTH = 32
export const MAX_QUERY_COMPARISONS = 64

/** A query that does not parse: `reason` is the sentence, `column` (1-based) where it went wrong. */
export class RunQueryError extends BenchsideError {
  readonly column: number
  readonly reason: string
  constructor(query: string, column: number, reason: string) {
    super({ code: 'INVALID_ARGS', field: 'where', message: `At column ${column}: ${reason}\n${caretLines(query, column)}` })
    this.name = 'RunQueryError'
    this.column = column
    this.reason = reason
  }
}

/** The query (or the part of a long one around the column) and a caret under the column, indented by two spaces. */
function caretLines(query: string, column: number): string {
  const flat = query.replace(/[\r\n\t]/g, ' ')
  const WIDTH = 72
  let start = 0
  if (flat.length > WIDTH) start = Math.max(0, Math.min(column - 1 - WIDTH / 2, flat.length - WIDTH))
  const prefix = start > 0 ? '…' : ''
  const suffix = start + WIDTH < flat.length ? '…' : ''
  const shown = prefix + flat.slice(start, start + WIDTH) + suffix
  return `  ${shown}\n  ${' '.repeat(prefix.length + column - 1 - start)}^`
}

// ---------------------------------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { kind: 'open' | 'close'; column: number; text: string }
  | { kind: 'op'; op: QueryOperator; column: number; text: string }
  | { kind: 'string'; value: string; column: number; text: string }
  /** A bare run of characters: keyword, field, number or bare value. `quotedKey` is set for params.`…`/metrics.`…`. */
  | { kind: 'word'; column: number; text: string; quotedKey?: string }
  | { kind: 'end'; column: number; text: '' }

/** Characters that end a bare word: spaces, brackets, operators and quotes. */
const WORD_BREAK = /[\s()=!<>~'"`]/
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '`': '`' }

function tokenize(query: string): Token[] {
  const tokens: Token[] = []
  const fail = (index: number, reason: string): never => {
    throw new RunQueryError(query, index + 1, reason)
  }
  /** A quoted run from `index` (the opening quote): backslash escapes, and the quote doubled stands for itself. */
  const quoted = (index: number): { value: string; end: number } => {
    const quote = query[index]!
    let value = ''
    let i = index + 1
    for (;;) {
      const c = query[i]
      if (c === undefined) {
        const what = quote === '`' ? 'key' : 'text'
        return fail(index, `the ${what} starting here is never closed; end it with ${quote}.`)
      }
      if (c === quote && query[i + 1] === quote) {
        value += quote
        i += 2
      } else if (c === quote) return { value, end: i + 1 }
      else if (c === '\\') {
        const escaped = query[i + 1]
        if (escaped === undefined || ESCAPES[escaped] === undefined) {
          return fail(i, `'\\${escaped ?? ''}' is not an escape; write \\\\ for a backslash, or \\${quote} for the quote.`)
        }
        value += ESCAPES[escaped]
        i += 2
      } else {
        value += c
        i += 1
      }
    }
  }

  let i = 0
  while (i < query.length) {
    const c = query[i]!
    const column = i + 1
    if (/\s/.test(c)) {
      i += 1
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'open' : 'close', column, text: c })
      i += 1
    } else if (c === '=' && query[i + 1] === '=') {
      fail(i, "write = to compare for equality ('==' is not an operator).")
    } else if (c === '<' && query[i + 1] === '>') {
      fail(i, "write != for 'not equal' ('<>' is not an operator).")
    } else if ('=!<>~'.includes(c)) {
      const two = query.slice(i, i + 2)
      const op = (['!=', '<=', '>='] as const).find((o) => o === two) ?? (c === '!' ? null : (c as QueryOperator))
      if (op === null) fail(i, "'!' is not an operator; write != for 'not equal', or the word not before a condition.")
      tokens.push({ kind: 'op', op: op!, column, text: op! })
      i += op!.length
    } else if (c === "'" || c === '"') {
      const { value, end } = quoted(i)
      tokens.push({ kind: 'string', value, column, text: query.slice(i, end) })
      i = end
    } else if (c === '`') {
      fail(i, 'backquotes quote a key right after params. or metrics., e.g. params.`noise sigma`.')
    } else {
      let end = i
      while (end < query.length && !WORD_BREAK.test(query[end]!)) end += 1
      const text = query.slice(i, end)
      if (query[end] === '`' && /^(params?|metrics?)\.$/i.test(text)) {
        const key = quoted(end)
        tokens.push({ kind: 'word', column, text: query.slice(i, key.end), quotedKey: key.value })
        i = key.end
      } else {
        tokens.push({ kind: 'word', column, text })
        i = end
      }
    }
  }
  tokens.push({ kind: 'end', column: query.length + 1, text: '' })
  return tokens
}

// ---------------------------------------------------------------------------------------------------------------------
// Fields and values

const KEYWORDS = ['and', 'or', 'not'] as const
const isKeyword = (t: Token, word?: (typeof KEYWORDS)[number]): boolean =>
  t.kind === 'word' && t.quotedKey === undefined && (word ? t.text.toLowerCase() === word : (KEYWORDS as readonly string[]).includes(t.text.toLowerCase()))

const FIELD_LIST = `params.<key>, metrics.<key>, tags, or one of ${RUN_ATTRIBUTES.join(', ')}`

function describe(t: Token): string {
  if (t.kind === 'end') return 'the end of the query'
  if (t.kind === 'string') return `the text ${t.text}`
  return `'${t.text}'`
}

/** A field from its word: `params.lr`, `metrics.\`val acc\``, `tags`, `status`; null when the word is none of them. */
function fieldOf(t: Token & { kind: 'word' }): QueryField | { hint: string } {
  const text = t.text
  const dot = text.indexOf('.')
  const prefix = (dot < 0 ? text : text.slice(0, dot)).toLowerCase()
  const key = t.quotedKey ?? (dot < 0 ? '' : text.slice(dot + 1))
  if (dot >= 0 && (prefix === 'params' || prefix === 'metrics')) {
    if (key === '') return { hint: `give a key after '${prefix}.', e.g. ${prefix}.${prefix === 'params' ? 'lr' : 'test_accuracy'}.` }
    return { kind: prefix === 'params' ? 'param' : 'metric', key }
  }
  if (dot >= 0 && (prefix === 'param' || prefix === 'metric')) return { hint: `unknown field '${text}'; did you mean '${prefix}s.${key}'?` }
  if (text.toLowerCase() === 'tags') return { kind: 'tags' }
  if (text.toLowerCase() === 'tag') return { hint: "unknown field 'tag'; did you mean 'tags' (tags = baseline)?" }
  const attribute = RUN_ATTRIBUTES.find((a) => a === text.toLowerCase())
  if (attribute) return { kind: 'attribute', name: attribute }
  return { hint: `unknown field '${text}'; use ${FIELD_LIST}.` }
}

/** A field as the query language writes it, key in backquotes when it holds anything but letters, digits, _ - . : / */
export function runFieldText(field: QueryField): string {
  if (field.kind === 'tags') return 'tags'
  if (field.kind === 'attribute') return field.name
  const prefix = field.kind === 'param' ? 'params' : 'metrics'
  const plain = /^[A-Za-z0-9_\-.:/@+]+$/.test(field.key)
  return plain ? `${prefix}.${field.key}` : `${prefix}.\`${field.key.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``
}

/** One field on its own (a sort key or a column as the CLI takes it); errors name `field` instead of `where`. */
export function parseRunField(text: string, argument = 'sort'): QueryField {
  const refuse = (reason: string): never => {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: argument, message: `Invalid argument '${argument}': ${reason}` })
  }
  let tokens: Token[]
  try {
    tokens = tokenize(text.trim())
  } catch (error) {
    return refuse(error instanceof RunQueryError ? error.reason : String(error))
  }
  const [first, second] = tokens
  if (first?.kind !== 'word' || second?.kind !== 'end') return refuse(`'${text}' is not a field; use ${FIELD_LIST}.`)
  const field = fieldOf(first)
  return 'hint' in field ? refuse(field.hint) : field
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86_400 }
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/

/** A local date or date-time as the span it names: a whole day, minute or second. */
function timeSpan(text: string): { from: number; to: number } | null {
  const m = DATE.exec(text.trim())
  if (!m) return null
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => (part === undefined ? undefined : Number(part)))
  const from = new Date(year!, month! - 1, day!, hour ?? 0, minute ?? 0, second ?? 0)
  if (from.getMonth() !== month! - 1 || from.getDate() !== day! || (hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return null
  const to = new Date(from)
  if (hour === undefined) to.setDate(to.getDate() + 1)
  else if (second === undefined) to.setMinutes(to.getMinutes() + 1)
  else to.setSeconds(to.getSeconds() + 1)
  return { from: from.getTime(), to: to.getTime() }
}

/** Which operators a field takes, and the literal it is compared with, as that field reads it. */
function valueFor(field: QueryField, op: QueryOperator, t: Token & { kind: 'word' | 'string' }, name: string): QueryValue | { reason: string } {
  const text = t.kind === 'string' ? t.value : t.text
  const number = t.kind === 'word' && NUMBER.test(text) ? Number(text) : null
  if (number !== null && !Number.isFinite(number)) return { reason: `${text} is too large a number.` }
  const ordering = op !== '=' && op !== '!=' && op !== '~'
  const onlyEquality = (what: string): { reason: string } => ({ reason: `${what} can be compared with =, != or ~, not ${op}.` })

  if (field.kind === 'metric') {
    if (op === '~') return { reason: `${name} holds numbers; compare it with =, !=, <, <=, > or >=, not ~.` }
    if (number === null) return { reason: `${name} holds numbers; compare it with a number, e.g. ${name} > 0.5, not ${describe(t)}.` }
    return { type: 'number', value: number, text }
  }
  if (field.kind === 'param') return number === null ? { type: 'text', value: text } : { type: 'number', value: number, text }
  if (field.kind === 'tags') return ordering ? onlyEquality('tags') : { type: 'text', value: text }
  switch (field.name) {
    case 'status': {
      if (ordering) return onlyEquality('status')
      if (op === '~') return { type: 'text', value: text }
      const status = RunStatus.options.find((s) => s === text.toUpperCase())
      return status ? { type: 'text', value: status } : { reason: `'${text}' is not a status; use one of ${RunStatus.options.join(', ')}.` }
    }
    case 'created':
    case 'started': {
      if (op === '~') return { reason: `${field.name} is a time; compare it with =, !=, <, <=, > or >=, not ~.` }
      if (number !== null) return { type: 'time', from: number, to: number + 1 }
      const span = timeSpan(text)
      return span
        ? { type: 'time', ...span }
        : { reason: `${field.name} takes a date (2026-03-01), a local time ('2026-03-01 14:30') or milliseconds since 1970, not ${describe(t)}.` }
    }
    case 'duration': {
      if (op === '~') return { reason: 'duration is a number of seconds; compare it with =, !=, <, <=, > or >=, not ~.' }
      if (number !== null) return { type: 'number', value: number, text }
      const unit = /^(\d+(?:\.\d+)?)(ms|s|min|m|h|d)$/i.exec(text)
      if (t.kind === 'word' && unit) return { type: 'number', value: Number(unit[1]) * DURATION_UNITS[unit[2]!.toLowerCase()]!, text }
      return { reason: `duration takes seconds, or a number with a unit (90s, 5m, 2h, 1d), not ${describe(t)}.` }
    }
    default:
      // name, kind, experiment: text, in the words typed.
      return { type: 'text', value: text }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Parser: expr := or; or := and ('or' and)*; and := unary ('and' unary)*; unary := 'not' unary | '(' expr ')' | comparison

/**
 * The tree of a query, or null when the query is empty (no filter). Throws RunQueryError (INVALID_ARGS, field
 * `where`) with the column where it went wrong.
 */
export function parseRunQuery(query: string): QueryNode | null {
  const tokens = tokenize(query)
  let at = 0
  let comparisons = 0
  const peek = (): Token => tokens[at]!
  const next = (): Token => tokens[at++]!
  const fail = (t: Token, reason: string): never => {
    throw new RunQueryError(query, t.column, reason)
  }
  if (peek().kind === 'end') return null

  const binary = (type: 'and' | 'or', operand: (depth: number) => QueryNode, depth: number): QueryNode => {
    const operands = [operand(depth)]
    while (isKeyword(peek(), type)) {
      next()
      operands.push(operand(depth))
    }
    return operands.length === 1 ? operands[0]! : { type, operands }
  }
  const expr = (depth: number): QueryNode => binary('or', (d) => binary('and', unary, d), depth)
  const unary = (depth: number): QueryNode => {
    const t = peek()
    if (depth > MAX_QUERY_DEPTH) fail(t, `the query nests deeper than ${MAX_QUERY_DEPTH} levels of brackets and 'not'; write it flatter.`)
    if (isKeyword(t, 'not')) {
      next()
      return { type: 'not', operand: unary(depth + 1) }
    }
    if (t.kind === 'open') {
      next()
      const inner = expr(depth + 1)
      const close = peek()
      if (close.kind !== 'close') fail(close, `expected ')' to close the '(' at column ${t.column}, found ${describe(close)}.`)
      next()
      return inner
    }
    return comparison()
  }
  const comparison = (): QueryComparison => {
    const t = next()
    if (t.kind !== 'word' || isKeyword(t)) return fail(t, `expected a field (${FIELD_LIST}), found ${describe(t)}.`)
    const field = fieldOf(t)
    if ('hint' in field) return fail(t, field.hint)
    if (++comparisons > MAX_QUERY_COMPARISONS) fail(t, `the query has more than ${MAX_QUERY_COMPARISONS} comparisons; narrow it with fewer.`)
    const opToken = next()
    if (opToken.kind !== 'op') return fail(opToken, `expected an operator (${QUERY_OPERATORS.join(' ')}) after '${t.text}', found ${describe(opToken)}.`)
    const valueToken = next()
    if ((valueToken.kind !== 'word' && valueToken.kind !== 'string') || isKeyword(valueToken)) {
      const found = isKeyword(valueToken) ? `the keyword ${describe(valueToken)}; quote it to compare with the word` : describe(valueToken)
      return fail(valueToken, `expected a value after '${opToken.op}', found ${found}.`)
    }
    if (valueToken.kind === 'word' && valueToken.quotedKey !== undefined) return fail(valueToken, `expected a value after '${opToken.op}', found a field.`)
    const value = valueFor(field, opToken.op, valueToken, t.text)
    if ('reason' in value) return fail(valueToken, value.reason)
    return { type: 'comparison', field, op: opToken.op, value, column: t.column }
  }

  const tree = expr(0)
  const rest = peek()
  if (rest.kind === 'close') fail(rest, "this ')' closes no '('.")
  if (rest.kind !== 'end') fail(rest, `expected 'and', 'or' or the end of the query, found ${describe(rest)}.`)
  return tree
}

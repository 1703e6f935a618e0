// Bad input on the command line in one plain sentence that names the option as typed ("--epochs must be a whole
// number, got 1.5."), never the validation library's words; commander's own errors exit 2 the same way.
import type { Command, CommanderError } from 'commander'
import type { z } from 'zod'

/** The command being run (set before its action), so a schema path can be named as the option the user typed. */
let running: Command | null = null

/** Exit 2 with one line for commander's errors (unknown option, missing argument…); help and --version exit 0. */
export function plainCommandErrors(program: Command): void {
  program
    .showHelpAfterError(false)
    .configureOutput({
      outputError: (text, write) => {
        const sentence = text
          .trim()
          .replace(/^error:\s*/, '')
          .replace(/\s*\n\s*/g, ' ')
          .replace(/\s*\((Did you mean [^)]*)\)$/, '. $1')
        const ended = /[.?!)]$/.test(sentence) ? sentence : `${sentence}.`
        write(`benchside: ${ended[0]!.toUpperCase()}${ended.slice(1)} Add --help to see the options.\n`)
      },
    })
    .exitOverride((error: CommanderError) => process.exit(error.exitCode === 0 ? 0 : 2))
    .hook('preAction', (_program, action) => {
      running = action
    })
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** The text typed after `flag` (`--epochs 1.5` or `--epochs=1.5`), so a message quotes it rather than what it parsed to. */
function typedAfter(flag: string): string | undefined {
  const argv = process.argv
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1]
    if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1)
  }
  return undefined
}

/** How the user wrote the field at `path`: an option of the running command, a `-p key=value` param, or an argument. */
function nameOf(path: readonly PropertyKey[], under: string | undefined, got: unknown): { name: string; flag: string | null } {
  const rest = path.slice(under !== undefined && path[0] === under ? 1 : 0).map(String)
  const key = rest.at(-1) ?? under ?? 'the arguments'
  const command = running
  if (command) {
    const options = command.options.filter((o) => o.long)
    const values = command.opts()
    const byName = options.find((o) => o.attributeName() === key || o.long === `--${kebab(key)}`)
    const byValue = got !== undefined ? options.filter((o) => Object.is(values[o.attributeName()], got)) : []
    const option = byName ?? (byValue.length === 1 ? byValue[0] : undefined)
    if (option) return { name: option.long!, flag: option.long! }
    const param = options.find((o) => o.long === '--param')
    if (param && rest.length > 0 && path[0] === 'params') return { name: `-p ${rest.slice(1).join('.') || key}`, flag: null }
    const argument = command.registeredArguments.find((a) => a.name() === key)
    if (argument) return { name: `<${argument.name()}>`, flag: null }
  }
  return { name: rest.length ? `'${rest.join('.')}'` : key, flag: `--${kebab(key)}` }
}

const listed = (values: readonly unknown[]) => {
  const shown = values.map((v) => String(v))
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`
}

const oneOf = (values: readonly unknown[]) => (values.length > 2 ? `one of ${listed(values)}` : listed(values))

/** What the field must be, in words. */
function requirement(issue: z.core.$ZodIssue): string {
  const detail = issue as unknown as Record<string, unknown>
  switch (issue.code) {
    case 'invalid_type': {
      const expected = String(detail.expected)
      const words: Record<string, string> = {
        int: 'a whole number',
        number: 'a number',
        string: 'text',
        boolean: 'true or false',
        array: 'a list',
        object: 'an object',
      }
      return `must be ${words[expected] ?? expected}`
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small'
      const bound = String(detail[small ? 'minimum' : 'maximum'])
      const inclusive = detail.inclusive !== false
      if (detail.origin === 'string') return small && bound === '1' ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${bound} characters`
      if (detail.origin === 'array' || detail.origin === 'set')
        return small && bound === '1' ? 'must list at least one value' : `must list ${small ? 'at least' : 'at most'} ${bound} values`
      if (small) return inclusive ? `must be at least ${bound}` : `must be more than ${bound}`
      return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`
    }
    case 'invalid_value':
      return `must be ${oneOf((detail.values as unknown[]) ?? [])}`
    case 'invalid_union':
      return Array.isArray(detail.options) ? `must be ${oneOf(detail.options as unknown[])}` : 'is not one of the forms it can take'
    case 'not_multiple_of':
      return `must be a multiple of ${String(detail.divisor)}`
    case 'invalid_format':
      return `must be a valid ${String(detail.format)}`
    case 'unrecognized_keys':
      return `has keys it does not know: ${listed((detail.keys as unknown[]) ?? [])}`
    default:
      // A refinement's own message, written for people already.
      return issue.message.replace(/^Invalid input: /, '').replace(/\.$/, '')
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value
  for (const key of path) at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined
  return at
}

/** One sentence for the first issue: "--epochs must be a whole number, got 1.5." */
export function plainIssue(issue: z.core.$ZodIssue, input: unknown, under?: string): string {
  const got = valueAt(input, issue.path)
  const { name, flag } = nameOf(issue.path, under, got)
  if (got === undefined && issue.code === 'invalid_type') return `${name} is required.`
  const raw = flag ? typedAfter(flag) : undefined
  const typed = raw === undefined || raw.trim() === '' || Number.isFinite(Number(raw)) ? raw : `'${raw}'`
  const shown =
    typed ?? (typeof got === 'string' ? `'${got}'` : Array.isArray(got) ? got.join(',') : typeof got === 'object' ? JSON.stringify(got) : String(got))
  // A message the schema's author wrote is a sentence already ("Pick at least two runs to compare."); zod's own never end
  // in a full stop.
  if (/^[A-Z].*[.!?]$/.test(issue.message)) return issue.message
  if (issue.code === 'custom') return `${name}: ${requirement(issue)}.`
  return `${name} ${requirement(issue)}, got ${shown}.`
}

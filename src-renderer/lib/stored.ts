// Choices remembered in this browser profile (localStorage): read through a zod schema, so a value written by another
// version, or edited by hand, falls back to the default instead of breaking a view.
import type { z } from 'zod'

export function readStored<S extends z.ZodType>(key: string, schema: S, fallback: z.output<S>): z.output<S> {
  try {
    const text = localStorage.getItem(key)
    if (text === null) return fallback
    const parsed = schema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : fallback
  } catch {
    return fallback
  }
}

export function writeStored(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // Storage full or refused (a private window): the choice lasts until the page closes.
  }
}

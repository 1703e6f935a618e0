// Bursts of change events into few requests: the work runs at most once per `ms`, never twice at once, and once more
// after the last trigger, so what is shown ends up current without a request per event.
export function coalesce(work: () => unknown, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null
  let running = false
  let again = false
  const start = async (): Promise<void> => {
    timer = null
    running = true
    try {
      await work()
    } finally {
      running = false
      if (again) {
        again = false
        trigger()
      }
    }
  }
  const trigger = (): void => {
    if (running) again = true
    else timer ??= setTimeout(() => void start(), ms)
  }
  return trigger
}

/** `coalesce` per key (a run's uuid): each key's bursts coalesce on their own. */
export function coalesceEach(work: (key: string) => unknown, ms: number): (key: string) => void {
  const triggers = new Map<string, () => void>()
  return (key) => {
    let trigger = triggers.get(key)
    if (!trigger) triggers.set(key, (trigger = coalesce(() => work(key), ms)))
    trigger()
  }
}

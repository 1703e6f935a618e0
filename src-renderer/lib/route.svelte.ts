// Where the page is: `#/<room>/<more…>?<query>`, read from location.hash and kept current on hashchange. Opening a
// place (`navigate`) adds a history entry; a view that mirrors its state in the query (`replaceQuery`) replaces the
// entry instead, so brushing or ticking does not fill the back button, and a reload or a copied address restores it.
class Route {
  /** The path after `#/`, split on `/` (empty parts dropped): `['runs', 'compare']`. */
  path = $state.raw<string[]>([])
  /** The query after `?`; replaced, never changed in place. */
  query = $state.raw<URLSearchParams>(new URLSearchParams())

  constructor() {
    this.read()
    window.addEventListener('hashchange', () => this.read())
  }

  private read(): void {
    const hash = location.hash.replace(/^#\/?/, '')
    const at = hash.indexOf('?')
    const path = (at < 0 ? hash : hash.slice(0, at)).split('/').filter(Boolean).map(decodeURIComponent)
    this.path = path
    this.query = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1))
  }

  /** Goes to `#/<path>?<query>` as a new history entry. */
  navigate(path: readonly string[], query?: URLSearchParams): void {
    location.hash = address(path, query)
  }

  /** The current path with another query, replacing the history entry (no hashchange fires; the state here follows). */
  replaceQuery(query: URLSearchParams): void {
    if (query.toString() === this.query.toString()) return
    history.replaceState(history.state, '', address(this.path, query))
    this.query = new URLSearchParams(query)
  }
}

/** `#/a/b?x=1` from a path and a query. */
export function address(path: readonly string[], query?: URLSearchParams): string {
  const q = query?.toString()
  return `#/${path.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`
}

export const route = new Route()

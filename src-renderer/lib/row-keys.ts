// The keyboard path of clickable table rows: a focusable row (tabindex 0) opens with Enter or Space, and the arrow
// keys move to the row above or below.
export function rowKeys(activate: () => void): (event: KeyboardEvent) => void {
  return (event) => {
    const row = event.currentTarget
    if (!(row instanceof HTMLElement) || event.target !== row) return
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault()
      activate()
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = (from: Element) => (event.key === 'ArrowDown' ? from.nextElementSibling : from.previousElementSibling)
      let sibling = step(row)
      // Rows between (an error line under a row, say) that take no focus are skipped.
      while (sibling && !(sibling instanceof HTMLElement && sibling.tabIndex >= 0)) sibling = step(sibling)
      if (sibling instanceof HTMLElement) {
        event.preventDefault()
        sibling.focus()
      }
    }
  }
}

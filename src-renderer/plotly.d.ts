// The slice of plotly.js the views use (plotly.js-dist ships no types).
declare module 'plotly.js-dist' {
  const Plotly: {
    react(element: HTMLElement, data: unknown[], layout?: unknown, config?: unknown): Promise<unknown>
    purge(element: HTMLElement): void
    downloadImage(element: HTMLElement, options: { format: 'png' | 'svg'; filename: string; width?: number; height?: number }): Promise<string>
  }
  export default Plotly
}

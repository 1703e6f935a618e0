// The slice of plotly.js the views use (the bundle ships no types). The strict bundle: its WebGL traces (parcoords)
// come with their shader code precompiled, so they draw under the renderer's CSP, which allows no eval.
declare module 'plotly.js-strict-dist-min' {
  const Plotly: {
    react(element: HTMLElement, data: unknown[], layout?: unknown, config?: unknown): Promise<unknown>
    purge(element: HTMLElement): void
    downloadImage(element: HTMLElement, options: { format: 'png' | 'svg'; filename: string; width?: number; height?: number }): Promise<string>
  }
  export default Plotly
}

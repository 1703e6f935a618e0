/// <reference types="svelte" />
import type { BenchsideApi } from '../src-main/contract/index.ts'

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser, where the WebSocket client stands in. */
    benchside?: BenchsideApi
  }
}

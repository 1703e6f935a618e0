/// <reference types="svelte" />
import type { BenchsideApi, BenchsideDialogs } from '../src-main/contract/index.ts'

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser, where the WebSocket client stands in. */
    benchside?: BenchsideApi
    /** The desktop's native save/open dialogs (Electron preload only). */
    benchsideDialogs?: BenchsideDialogs
  }
}

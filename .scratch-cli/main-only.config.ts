// Builds only the main target of the real config (out/main), leaving out/preload and out/renderer alone.
import { defineConfig } from 'electron-vite'
import real from '../electron.vite.config.ts'

export default defineConfig({ main: (real as { main: object }).main })

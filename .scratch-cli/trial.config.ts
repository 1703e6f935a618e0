// Trial build of the main target only, into .scratch-cli/out, so others' builds in out/ are untouched.
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import real from '../electron.vite.config.ts'

const main = (real as { main: { build: Record<string, unknown> } }).main
export default defineConfig({ main: { ...main, build: { ...main.build, outDir: resolve('.scratch-cli/out/main') } } })

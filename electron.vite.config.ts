// One build for the three Electron targets. Folders are spelled out because they are not electron-vite's defaults.
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { CONTENT_SECURITY_POLICY } from './src-main/desktop/security.ts'

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: {
          index: resolve('src-main/index.ts'),
          // The CLI in plain Node (bin/benchside.js): one bundle starts much faster than tsx transpiling the tree.
          cli: resolve('src-main/cli.ts'),
          'job-host': resolve('src-main/jobs/job-host.ts'),
          'sweep-worker': resolve('src-main/jobs/sweep-worker.ts'),
          // Data-parallel training threads; engine/parallel-train/coordinator.ts finds it next to its own chunk.
          'train-worker': resolve('src-main/engine/parallel-train/worker.ts'),
          'emulator-process': resolve('src-main/hardware/emulator/emulator-process.ts'),
        },
        // Shared chunks sit next to the entries, not in a chunks/ folder: code that finds a sibling entry from its own
        // import.meta.url (job-host.js, emulator-process.js) works whichever chunk the bundler puts it in.
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot load ES modules or node_modules: one self-contained CommonJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src-renderer'),
    base: './',
    build: {
      outDir: resolve('out/renderer'),
      emptyOutDir: true,
      rolldownOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
    plugins: [
      svelte(),
      // One policy for both hosts: the page carries it as a meta tag (file:// pages get no headers in Electron).
      // frame-ancestors is header-only, so web mode sends the full policy as a header too.
      {
        name: 'benchside-csp',
        transformIndexHtml: (html: string) => html.replace('%BENCHSIDE_CSP%', CONTENT_SECURITY_POLICY.replace(/; frame-ancestors [^;]+/, '')),
      },
    ],
  },
})

import { defineConfig } from 'vitest/config'
export default defineConfig({ test: { include: ['.scratch-i19/e2e/*.test.ts'], testTimeout: 30_000, hookTimeout: 300_000, pool: 'forks', reporters: ['default', './tests/helpers/summary-reporter.ts'] } })

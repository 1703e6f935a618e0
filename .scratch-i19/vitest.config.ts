import { defineConfig } from 'vitest/config'
export default defineConfig({ test: { include: ['.scratch-i19/*.test.ts'], reporters: ['default', './.scratch-i19/rep.ts'] } })

#!/usr/bin/env node
// The benchside command: runs the TypeScript CLI straight from the source tree (through tsx), in plain Node.
import { register } from 'tsx/esm/api'

register()
await import('../src-main/cli.ts')

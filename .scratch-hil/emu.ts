import { startEmulator } from '../src-main/hardware/emulator/emulator.ts'
const t = Date.now()
try { const e = await startEmulator({ seed: 7 }); console.log('ok', e.pty, Date.now() - t, 'ms'); await e.stop() } catch (error) { console.log('failed', Date.now() - t, 'ms', error) }
process.exit(0)

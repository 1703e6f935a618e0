// Headless entry: every job the UI can start, the CLI can start. Runs in plain Node (bin/benchside.js).
import './warnings.ts'
import { Command } from 'commander'
import type { AppInfo } from './contract/index.ts'
import { createCore, type Core } from './core.ts'
import { registerJobCommands } from './cli/jobs.ts'
import { registerModelCommands } from './cli/models.ts'
import { registerBoardCommands } from './cli/boards.ts'
import { registerRobustnessCommands } from './cli/robustness.ts'
import { registerQuantizationCommands } from './cli/quantization.ts'
import { registerAnalogCommands } from './cli/analog.ts'
import { exitWithError } from './cli/output.ts'
import { registerRunCommands } from './cli/runs.ts'
import { registerWebCommand } from './cli/web.ts'
import { nodeJobLauncher } from './jobs/node-launcher.ts'
import { version } from './services/app.ts'
import { defaultDataDir } from './store/data-dir.ts'

// `benchside runs list | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

let core: Core | null = null
/** Opened on first use, so `--help` never touches the data folder. */
function openCore(host: AppInfo['host'] = 'cli'): Core {
  core ??= createCore({ dataDir: defaultDataDir(), host, launch: nodeJobLauncher })
  return core
}

const program = new Command()
  .name('benchside')
  .description(`Benchside ${version}: a workbench for hardware-aware neural networks. Data folder: ${defaultDataDir()} (set BENCHSIDE_HOME to change it).`)
  .version(version)
  .showHelpAfterError()

registerRunCommands(program, openCore)
registerJobCommands(program, openCore)
registerModelCommands(program, openCore)
registerBoardCommands(program, openCore)
registerRobustnessCommands(program, openCore)
registerQuantizationCommands(program, openCore)
registerAnalogCommands(program, openCore)
registerWebCommand(program, openCore)

function closeCore(): void {
  core?.close()
  core = null
}

try {
  await program.parseAsync(process.argv)
  // web keeps serving until Ctrl-C; every other command is done here.
  if (program.args[0] !== 'web') closeCore()
} catch (error) {
  closeCore()
  exitWithError(error)
}

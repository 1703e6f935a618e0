// Headless entry: every job the UI can start, the CLI can start. Runs in plain Node (bin/benchside.js), from the
// built bundle out/main/cli.js or from source through tsx.
import './warnings.ts'
import { Command } from 'commander'
import type { AppInfo } from './contract/index.ts'
import type { Core } from './core.ts'
import { registerJobCommands } from './cli/jobs.ts'
import { registerModelCommands } from './cli/models.ts'
import { registerBoardCommands } from './cli/boards.ts'
import { registerRobustnessCommands } from './cli/robustness.ts'
import { registerQuantizationCommands } from './cli/quantization.ts'
import { registerAnalogCommands } from './cli/analog.ts'
import { registerCompressionCommands } from './cli/compression.ts'
import { registerUncertaintyCommands } from './cli/uncertainty.ts'
import { registerDoctorCommand } from './cli/doctor.ts'
import { exitWithError } from './cli/output.ts'
import { plainCommandErrors } from './cli/plain-errors.ts'
import { plainApi } from './cli/api.ts'
import { registerRunCommands } from './cli/runs.ts'
import { registerWebCommand } from './cli/web.ts'
import { registerClusterCommands } from './cli/clusters.ts'
// Static on purpose: the launcher finds job-host.js next to the module it is in, so it must stay in this entry file.
import { nodeJobLauncher } from './jobs/node-launcher.ts'
import { version } from './services/app.ts'
import { defaultDataDir } from './store/data-dir.ts'

// `benchside runs list | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

let core: Promise<Core> | null = null
/** Opened on first use, so `--help` never touches the data folder nor loads the store and services. */
function openCore(host: AppInfo['host'] = 'cli'): Promise<Core> {
  core ??= import('./core.ts').then(({ createCore }) => createCore({ dataDir: defaultDataDir(), host, launch: nodeJobLauncher }))
  return core
}
// Every call's arguments are checked in the CLI's words first (cli/api.ts plainApi).
const openApi = async () => plainApi((await openCore()).api)

const program = new Command()
  .name('benchside')
  .description(`Benchside ${version}: a workbench for hardware-aware neural networks. Data folder: ${defaultDataDir()} (set BENCHSIDE_HOME to change it).`)
  .version(version)
  .showHelpAfterError()
// Before any command is added: subcommands inherit how errors are written and that bad input exits 2.
plainCommandErrors(program)

registerRunCommands(program, openApi)
registerJobCommands(program, openApi)
registerModelCommands(program, openApi)
registerBoardCommands(program, openApi)
registerRobustnessCommands(program, openApi)
registerQuantizationCommands(program, openApi)
registerAnalogCommands(program, openApi)
registerCompressionCommands(program, openApi)
registerUncertaintyCommands(program, openApi)
registerWebCommand(program, openCore)
registerClusterCommands(program, openApi, nodeJobLauncher)
registerDoctorCommand(program, () => defaultDataDir())

async function closeCore(): Promise<void> {
  const opened = core
  core = null
  // A core that failed to open has nothing to close; its error is already on its way to exitWithError.
  await opened?.then(
    (c) => c.close(),
    () => {},
  )
}

try {
  await program.parseAsync(process.argv)
  // web keeps serving until Ctrl-C; every other command is done here.
  if (program.args[0] !== 'web') await closeCore()
} catch (error) {
  await closeCore()
  exitWithError(error)
}

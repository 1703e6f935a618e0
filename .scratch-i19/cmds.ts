import { installCommand } from '../src-main/services/system-components.ts'
console.log(installCommand('linux')); console.log(installCommand('darwin'))

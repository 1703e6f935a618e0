import { pathWithout } from '../tests/helpers/components.ts'
const p = pathWithout(['socat', 'sshd', 'chromium', 'chromium-browser'])
console.log(p.PATH)

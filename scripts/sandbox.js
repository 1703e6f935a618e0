// Whether `npm start` may launch Electron, and with which sandbox flags. Chromium's sandbox cannot run as root, and
// turning it off would let a compromised page reach the whole machine: as root, Benchside refuses unless asked on purpose.

/**
 * @param {number | undefined} uid the user id (undefined where the platform has none, e.g. Windows)
 * @param {Record<string, string | undefined>} env
 * @returns {{ refused: string | null, flags: string[] }}
 */
export function sandboxPlan(uid, env) {
  if (uid !== 0) return { refused: null, flags: [] }
  if (env.BENCHSIDE_ELECTRON_NO_SANDBOX === '1') return { refused: null, flags: ['--no-sandbox'] }
  return {
    refused:
      "Electron's sandbox cannot run as root. Start Benchside as a normal user for the desktop app, or set BENCHSIDE_ELECTRON_NO_SANDBOX=1 to run it without the sandbox on purpose",
    flags: [],
  }
}

// Types for sandbox.js (a plain script, run by npm start before anything is built).
export function sandboxPlan(uid: number | undefined, env: Record<string, string | undefined>): { refused: string | null; flags: string[] }

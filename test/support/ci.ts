/** Whether this run is CI's: CI set to a true value (`CI=false` or `CI=0` is a developer's run). */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.CI ?? '');
}

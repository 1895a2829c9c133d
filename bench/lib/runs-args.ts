/** The `--runs N` / `--quick` options of the one-thread benches (parse, content). */
export function parseRunsArgs(argv: string[]): { runs: number; quick: boolean } {
  let runs = 5;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    if (flag === '--runs') runs = Number(inline ?? argv[++i]);
    else if (flag === '--quick') {
      quick = true;
      runs = argv.some((a) => a.startsWith('--runs')) ? runs : 1;
    } else throw new Error(`unknown option ${argv[i]} (known: --runs N --quick)`);
  }
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error('--runs must be 1..100');
  return { runs, quick };
}

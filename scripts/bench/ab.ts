/**
 * `npm run bench -- ab`: the long form of the A/B rule's simulation. Many A/A tests (both arms the same model) and
 * A/B tests with known lifts, looked at every hour for the maximum duration, with the sequential rule and with a
 * plain two-sided z-test at the same alpha on the same data. A/A: how often each promotes a model that is no
 * better (the sequential rule must stay at or below alpha). A/B: how often each finds the lift (power), and when.
 */
import { simulate } from '../../src/contracts/ab-simulation';
import { DEFAULT_SEQUENTIAL } from '../../src/contracts/sequential-test';
import { exitFailed, flag, printTable } from './report';

const HELP = `Usage: npm run bench -- ab [--runs N] [--per-hour N] [--days N]

Defaults: 10,000 runs per row, 20 feedback rows per arm per hour, 7 days of hourly looks, control acceptance 0.82,
alpha ${DEFAULT_SEQUENTIAL.alpha}, prior tau ${DEFAULT_SEQUENTIAL.tau}, at least ${DEFAULT_SEQUENTIAL.minPerArm} rows per arm before a decision.
No stack needed.
`;

function main(): void {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const runs = flag('runs', 10_000);
  const perArmPerHour = flag('per-hour', 20);
  const hours = flag('days', 7) * 24;
  const rows: string[][] = [
    ['candidate', 'runs', 'promoted', 'rolled back', 'mean hour', 'z-test hourly promoted', 'alpha'],
  ];
  const controlRate = 0.82;
  let seed = 1;
  for (const candidateRate of [0.82, 0.84, 0.85, 0.87, 0.77]) {
    const started = performance.now();
    const r = simulate({
      controlRate,
      candidateRate,
      perArmPerHour,
      hours,
      runs,
      seed: seed++,
      settings: DEFAULT_SEQUENTIAL,
    });
    const share = (n: number) => `${n} (${((100 * n) / r.runs).toFixed(2)} %)`;
    rows.push([
      `${candidateRate} vs ${controlRate}`,
      String(r.runs),
      share(r.promoted),
      share(r.rolledBack),
      r.meanDecisionHour === undefined ? '-' : String(r.meanDecisionHour),
      share(r.naivePromoted),
      String(DEFAULT_SEQUENTIAL.alpha),
    ]);
    process.stderr.write(`[bench ab] ${candidateRate}: ${Math.round(performance.now() - started)} ms\n`);
  }
  process.stdout.write(`${perArmPerHour} feedback rows per arm per hour, hourly looks for ${hours / 24} days\n`);
  printTable(rows);
}

try {
  main();
} catch (err) {
  exitFailed(err);
}

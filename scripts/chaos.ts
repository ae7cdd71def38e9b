/**
 * `npm run chaos [-- --runs N --outage-seconds S --budget-seconds B --seed X] [filter]`: the fault scenarios of
 * test/chaos, run longer than `npm test` runs them (20 kills per step, 30 s outages, 600 s of randomised runs by
 * default), then one table of what each produced.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR, ensureDir } from './lib/paths';
import { median, printTable } from './bench/report';
import type { ScenarioTally } from './lib/chaos-tally';

const HELP = `Usage: npm run chaos [-- [options] [filter]]

Runs the fault scenarios under test/chaos against the stack (a running npm start's, or one brought up for the
run) and prints one table: scenario, runs, completed, failed and paged (where the fault outlasts a step's retries
by design), duplicated side effects, lost work, stuck workflows, time to recover. The scenarios:
  worker-kill         worker SIGKILLs at random points of the cache purge, the retention delete, the crisis notices
                      (worker-kill), a database backup's upload (worker-kill-backup), a remediation's child cache
                      purge (worker-kill-child), the AI service recovery saga (worker-kill-recovery) and the
                      retraining's A/B wait (worker-kill-ab)
  dependency-outage   Redis, PostgreSQL, the notification service, S3 (a backup upload) and the Kubernetes API (a
                      rollout restart) cut mid-step
  lost-replies        replies lost after the write: notification requests, audit inserts, retention DELETEs, a
                      Kubernetes rollout undo (the deployment controller played)
  history-limits      an incident's alert re-fired and its gate refused 10,000 times, and 10,000 alerts or
                      decisions delivered in one workflow task
  temporal-restart    the Temporal server stopped and started again under a cache purge and a crisis at its gate
  worker-cutoff       a worker cut off from the Temporal server past the heartbeat timeout of the retention delete
                      (worker-cutoff) and of the cache purge (worker-cutoff-purge) while the step goes on; a second
                      worker takes the retry
  hostile-starts      refused inputs of every workflow type started on a real worker
  randomised          for a time budget, a seeded random mix of cache purges, retention deletes, crises (resolved,
                      or left to miss their deadline) and incidents on three workers killed at random; then each
                      couple told once, an audit row per decision, the purged keys and eligible rows gone and
                      nothing else, every missed deadline paged, no run stuck, every history replayed

Options:
  --runs N             kills per step (default 20)
  --outage-seconds S   how long each dependency stays down (default 30; 600 for the long outage)
  --budget-seconds B   how long the randomised scenario starts runs and kills workers (default 600)
  --seed X             the random kill points' and the randomised plan's seed (default 20261126)
  --only TEXT[,TEXT]   only the scenarios whose name or table row contains one of the texts (e.g. "Redis down")
  filter               only test files whose path contains it (one of the scenario files above)
  -h, --help           this text

Exit code 1 when any run duplicated or lost work or got stuck.
`;

function positive(name: string, value: string | undefined, fallback: number): string {
  if (value === undefined) return String(fallback);
  if (!/^\d+$/.test(value) || Number(value) <= 0)
    throw new Error(`--${name}: must be a positive whole number, not "${value}"`);
  return value;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      runs: { type: 'string' },
      'outage-seconds': { type: 'string' },
      'budget-seconds': { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const results = join(ensureDir(join(DATA_DIR, 'chaos')), 'results.jsonl');
  rmSync(results, { force: true });
  const env = {
    ...process.env,
    AIOPS_CHAOS_RUNS: positive('runs', values.runs, 20),
    AIOPS_CHAOS_OUTAGE_SECONDS: positive('outage-seconds', values['outage-seconds'], 30),
    AIOPS_CHAOS_BUDGET_SECONDS: positive('budget-seconds', values['budget-seconds'], 600),
    AIOPS_CHAOS_SEED: positive('seed', values.seed, 20261126),
    ...(values.only && { AIOPS_CHAOS_ONLY: values.only }),
    AIOPS_CHAOS_RESULTS: results,
    // One scenario at a time: a kill's recovery time should not include another scenario's load.
    AIOPS_TEST_CONCURRENCY: '1',
  };
  const filter = `test/chaos/${positionals[0] ?? ''}`;
  const code = await new Promise<number>((resolve) =>
    spawn(process.execPath, [join(__dirname, 'run-tests.js'), filter], { env, stdio: 'inherit' }).on('exit', (c) =>
      resolve(c ?? 1),
    ),
  );
  const tallies: ScenarioTally[] = existsSync(results)
    ? readFileSync(results, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as ScenarioTally)
    : [];
  printTable([
    [
      'scenario',
      'runs',
      'completed',
      'failed and paged',
      'duplicated',
      'lost',
      'stuck',
      'recovery median (max)',
      'seen',
    ],
    ...tallies.map((t) => [
      t.scenario,
      String(t.runs),
      String(t.completed),
      String(t.paged),
      String(t.duplicated),
      String(t.lost),
      String(t.stuck),
      t.recoverySeconds.length
        ? `${median(t.recoverySeconds).toFixed(1)} s (${Math.max(...t.recoverySeconds).toFixed(1)} s)`
        : '-',
      [...new Set(t.notes)].slice(0, 2).join('; '),
    ]),
  ]);
  process.stdout.write(
    `\nmeasured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores, seed ${env.AIOPS_CHAOS_SEED}\n`,
  );
  const bad = tallies.some((t) => t.duplicated || t.lost || t.stuck);
  return code !== 0 || bad ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);

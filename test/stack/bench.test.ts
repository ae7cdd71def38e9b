/**
 * The benchmarks at toy sizes against the running stack: they keep working, and the correctness they print (keys
 * left and removed, rows deleted, couples told once, runs through stage 1) is what the full runs are read for.
 * Timings are not asserted: speed is the full benchmark's business (npm run bench).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BENCH = join(__dirname, '..', '..', 'scripts', 'bench', 'index.js');

function bench(...args: string[]): string {
  const run = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `npm run bench -- ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** The cells of the table row whose first cell starts with `label`. */
function row(output: string, label: string): string[] {
  const line = output.split('\n').find((l) => l.startsWith(`| ${label}`));
  assert.ok(line, `no "${label}" row in:\n${output}`);
  return line
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());
}

describe('npm run bench, at toy sizes', () => {
  it('alerts: each alert starts exactly one workflow, through the receiver and straight', { timeout: 150_000 }, () => {
    const out = bench('alerts', '--rate', '20', '--seconds', '2');
    for (const label of ['ours:', 'baseline:']) assert.equal(row(out, label)[7], '40 of 40', label);
    assert.match(out, /Median p99 over its two rounds: ours \d+ ms, baseline \d+ ms/);
  });

  it(
    'purge: the seed, the activity and the workflow through Temporal each remove every ai:* key and no other',
    { timeout: 150_000 },
    () => {
      const out = bench('purge', '--keys', '3000', '--others', '3000', '--rounds', '2', '--scan-count', '200');
      // Counted from Redis by the bench before it prints any time: ai:* before each run, left after, others removed.
      for (const label of ['seed:', 'activity:', 'workflow:']) {
        const cells = row(out, label);
        assert.deepEqual(cells.slice(1), ['3', '3000', '0', '0'], `${label} runs, ai:* before, left, others removed`);
      }
      assert.match(out, /live GET\/SET p50 \/ p99 \/ max/);
      assert.match(out, /keys\/s against the seed by round: activity [\d.]+×, [\d.]+×; workflow [\d.]+×, [\d.]+×\./);
    },
  );

  it(
    'retention: the seed, the activity and the workflow each delete every eligible row and keep every other, on both layouts',
    { timeout: 150_000 },
    () => {
      const out = bench('retention', '--rows', '5000', '--rounds', '1');
      const lines = out
        .split('\n')
        .filter((l) => /^\| (seed|activity|workflow):/.test(l) && /correlated|scattered/.test(l));
      assert.equal(lines.length, 6, `one correctness row per side and layout in:\n${out}`);
      for (const line of lines) {
        const cells = line
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim());
        // Runs, eligible before, eligible left, and the writers' rows among those kept (count and MD5 of ids).
        assert.equal(cells[2], '2', line);
        assert.match(cells[3], /^(2000|2067)$/, line);
        assert.equal(cells[4], '0', line);
        assert.match(cells[5], /^2 of 2 runs exact \((\d+)\/\1, (\d+)\/\2\)$/, line);
      }
      assert.match(out, /### correlated: 5000 rows, 2000 eligible/);
      assert.match(out, /### scattered: 5000 rows, 2067 eligible/);
    },
  );

  it(
    'crisis: every couple told once and every run through stage 1, at scale and in a burst',
    { timeout: 150_000 },
    () => {
      const out = bench('crisis', '--couples', '200', '--burst', '4', '--latency-ms', '5');
      // Counted by the receiver (Idempotency-Keys) and the store; the bench itself fails when either is short.
      assert.match(
        row(out, 'weddingDayCrisis, one platform run')[8],
        /^200 of 200, 0 repeats; 200 taken over, 200 sent$/,
      );
      assert.match(row(out, 'seed commands')[8], /^200 of 200, 0 repeats$/);
      assert.match(row(out, 'weddingDayCrisis, one platform run')[6], /^\d+$/, 'history events');
      const burst = row(out, 'weddingDayCrisis ×4 per wedding at once');
      assert.equal(burst[1], '8 of 8');
      assert.equal(burst[5], '24 of 24, 0 repeats; 24 taken over by their own run');
      assert.equal(row(out, 'one-activity reference ×4 at once')[1], '8 of 8');
    },
  );
});

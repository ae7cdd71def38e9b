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

  it('purge: both ways remove every ai:* key and no other', { timeout: 150_000 }, () => {
    const out = bench('purge', '--keys', '3000', '--others', '3000', '--rounds', '2', '--scan-count', '200');
    for (const label of ['seed:', 'ours:']) {
      const cells = row(out, label);
      assert.deepEqual(cells.slice(-2), ['0', '0'], `${label} ai:* left, other keys removed`);
    }
    assert.match(row(out, 'ours:')[4], /heap held after it [+-]\d/);
    assert.match(out, /ours\/seed keys\/s by round: [\d.]+×, [\d.]+×\./);
  });

  it('retention: both ways delete every eligible row, ours in short transactions', { timeout: 150_000 }, () => {
    const out = bench('retention', '--rows', '5000', '--rounds', '1');
    assert.match(out, /5000 rows, 2000 eligible/);
    assert.match(out, /The seed left 0 eligible in all; ours deleted 2000 \(complete\)/);
    const longest = Number(/^([\d.]+) ms$/.exec(row(out, 'ours:')[3])?.[1]);
    assert.ok(longest < 100, `longest transaction ${longest} ms`);
  });

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

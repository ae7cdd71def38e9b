/**
 * The benchmarks at toy sizes against the running stack: they keep working, and the correctness they print
 * (keys left and removed, rows deleted, crises through stage 1) is what the full runs are read for.
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

  it('crisis: every crisis gets through stage 1 on a worker process of its own', { timeout: 150_000 }, () => {
    const out = bench('crisis', '--crises', '4', '--couples', '2', '--baseline-runs', '1');
    const cells = row(out, 'weddingDayCrisis ×4 at once');
    assert.match(cells[1], /^\d+ ms$/);
    assert.match(
      out,
      /the worker used [\d.]+ s of CPU \(\d+ ms a crisis\)(, the dev server [\d.]+ s|; the dev server is not the local stack's)/,
    );
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { zstdInputBytes } from '../../src/activities/backups/pg-tools';

test('the bytes zstd read are taken from its -vv summary, as the installed zstd prints it', () => {
  const input = Buffer.alloc(3_000_001, 'pg_dump output ');
  const run = spawnSync('zstd', ['-1', '-c', '-vv', '--no-progress', '--check'], { input });
  assert.equal(run.status, 0, run.stderr.toString());
  assert.equal(zstdInputBytes(run.stderr.toString()), 3_000_001);
});

test('a summary without exact byte counts gives no figure rather than a wrong one', () => {
  assert.equal(zstdInputBytes('/*stdin*\\ :100.00%   (  28.6 MiB =>   28.6 MiB, /*stdout*\\)'), undefined);
  assert.equal(zstdInputBytes(''), undefined);
});

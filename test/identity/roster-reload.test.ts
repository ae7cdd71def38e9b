/**
 * The roster re-read while the worker runs: SIGHUP to the worker process reads AIOPS_CONFIG_FILE again and puts its
 * roster in place of the old one, in the very array the activities hold; a roster that does not validate changes
 * nothing and says why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { reloadRoster } from '../../src/workers/roster-reload';
import { uniqueId } from '../helpers/temporal';
import { exited, waitUntil } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..', '..');
const WORKER = join(ROOT, 'dist', 'src', 'workers', 'main.js');

const person = (id: string, roles: string[]) => ({ id, name: id, roles, slack: `@${id}` });
const TEAM = [person('oncall', ['on-call']), person('carol', ['cto']), person('dave', ['ai-team-lead'])];

function configFile(roster: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'aiops-roster-')), 'config.json');
  writeFileSync(path, JSON.stringify({ AIOPS_ROSTER: JSON.stringify(roster) }));
  return path;
}

/** The test environment with the roster taken from `path` only (the environment's would win over the file's). */
function envWithFile(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AIOPS_CONFIG_FILE: path };
  delete env.AIOPS_ROSTER;
  return env;
}

describe('the roster reloaded while the worker runs', () => {
  it('replaces the roster in place, and keeps it when the new one does not validate', () => {
    const path = configFile(TEAM);
    const env = envWithFile(path);
    const roster = loadConfig(env).roster;
    assert.deepEqual(
      roster.map((p) => p.id),
      ['oncall', 'carol', 'dave'],
    );

    writeFileSync(path, JSON.stringify({ AIOPS_ROSTER: JSON.stringify(TEAM.filter((p) => p.id !== 'carol')) }));
    assert.deepEqual(
      reloadRoster(roster, () => loadConfig(env)),
      { ok: true, people: 2 },
    );
    assert.deepEqual(
      roster.map((p) => p.id),
      ['oncall', 'dave'],
    );

    writeFileSync(path, JSON.stringify({ AIOPS_ROSTER: JSON.stringify([...TEAM, person('dave', ['cto'])]) }));
    const refused = reloadRoster(roster, () => loadConfig(env));
    assert.equal(refused.ok, false);
    assert.match(!refused.ok ? refused.error : '', /AIOPS_ROSTER: person id "dave" appears twice/);
    assert.deepEqual(
      roster.map((p) => p.id),
      ['oncall', 'dave'],
    );
  });

  it('reloads on SIGHUP in the worker process, logging what it did', { timeout: 120_000 }, async () => {
    const path = configFile(TEAM);
    const worker = spawn(process.execPath, [WORKER], {
      env: {
        ...envWithFile(path),
        TEMPORAL_TASK_QUEUE: uniqueId('roster-reload'),
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
        CODEC_SERVER_ADDRESS: '127.0.0.1:0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
    worker.stderr.resume();
    const lines = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { message: string; people?: number; error?: string });
    try {
      await waitUntil(
        'the worker polling',
        async () => out,
        (o) => o.includes('worker polling'),
        60_000,
      );
      writeFileSync(path, JSON.stringify({ AIOPS_ROSTER: JSON.stringify(TEAM.slice(0, 1)) }));
      worker.kill('SIGHUP');
      const reloaded = await waitUntil(
        'the roster reloaded',
        async () => lines().find((l) => l.message === 'roster reloaded'),
        (l) => l !== undefined,
        10_000,
      );
      assert.equal(reloaded?.people, 1);

      writeFileSync(path, JSON.stringify({ AIOPS_ROSTER: 'not json' }));
      worker.kill('SIGHUP');
      const kept = await waitUntil(
        'the bad roster refused',
        async () => lines().find((l) => l.message.startsWith('roster not reloaded')),
        (l) => l !== undefined,
        10_000,
      );
      assert.match(kept?.error ?? '', /AIOPS_ROSTER: must be a JSON array of people/);
      assert.equal(worker.exitCode, null, 'SIGHUP does not stop the worker');
    } finally {
      worker.kill('SIGTERM');
      await exited(worker, 30_000);
    }
  });
});

/**
 * The patch list maintainers retire patches by (src/client/patches.ts, `runbook patches`): it names every marker the
 * workflows set, and counts an open run against a patch only when the run started before the patch reached the
 * workers and its history has no marker of it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { PATCHES, patchesInHistory, patchReport, type OpenRun, type PatchStatus } from '../../src/client/patches';
import { CHANNELS_APART_PATCH } from '../../src/workflows/gates/pager';
import { RUN_ID_TAIL_PATCH } from '../../src/workflows/common/run-stamp';
import { verifyBackup } from '../../src/workflows';
import { jsonLines, runbookCli } from '../helpers/runbook-cli';
import { devServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('patch markers and their retirement', () => {
  it('lists every patch the workflows set, once, with the day it landed', () => {
    const inSource = new Set<string>();
    for (const file of sourceFiles(join(ROOT, 'src', 'workflows'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/export const \w+_PATCH = '([^']+)'/g)) inSource.add(m[1]);
      for (const m of text.matchAll(/(?:patched|deprecatePatch)\('([^']+)'\)/g)) inSource.add(m[1]);
    }
    const listed = PATCHES.map((p) => p.id);
    assert.equal(new Set(listed).size, listed.length, 'a patch listed twice');
    assert.deepEqual([...inSource].sort(), [...listed].sort());
    for (const p of PATCHES) assert.match(p.landed, /^2\d{3}-\d{2}-\d{2}$/, p.id);
  });

  it('lists every marker a recorded history holds', () => {
    const dir = join(ROOT, 'test', 'histories');
    const listed = new Set(PATCHES.map((p) => p.id));
    let markers = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      for (const id of patchesInHistory(historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8'))))) {
        markers++;
        assert.ok(listed.has(id), `${file}: ${id}`);
      }
    }
    assert.ok(markers > 10, `only ${markers} markers in the recorded histories`);
  });

  it('keeps a patch while an open run started before it lacks its marker, from the later of landing and deployment', () => {
    const run = (workflowId: string, startTime: string, patches: string[]): OpenRun => ({
      workflowId,
      runId: `${workflowId}-run`,
      type: 'incidentResponse',
      startTime: new Date(startTime),
      patches: new Set(patches),
    });
    const patches = [
      { id: 'a', landed: '2026-11-20' },
      { id: 'b', landed: '2026-11-26' },
    ];
    const runs = [
      run('old-with-both', '2026-11-19T10:00:00Z', ['a', 'b']),
      run('old-without', '2026-11-19T10:00:00Z', []),
      run('mid', '2026-11-24T10:00:00Z', ['a']),
      run('new', '2026-11-27T10:00:00Z', []),
    ];
    const ids = (s: PatchStatus) => [s.verdict, s.before.map((r) => r.workflowId)];
    assert.deepEqual(patchReport(runs, undefined, patches).map(ids), [
      ['keep', ['old-without']],
      ['keep', ['old-without', 'mid']],
    ]);
    // Deployed later than it landed: a run started in between ran without it too.
    assert.deepEqual(patchReport(runs, { all: new Date('2026-11-28T00:00:00Z') }, patches).map(ids), [
      ['keep', ['old-without', 'new']],
      ['keep', ['old-without', 'mid', 'new']],
    ]);
    // One patch's release went out at a time of its own: that patch counts from then, the other from `all`.
    const own = { all: new Date('2026-11-21T00:00:00Z'), byPatch: new Map([['b', new Date('2026-11-28T00:00:00Z')]]) };
    assert.deepEqual(patchReport(runs, own, patches).map(ids), [
      ['keep', ['old-without']],
      ['keep', ['old-without', 'mid', 'new']],
    ]);
    assert.deepEqual(patchReport([runs[0], runs[3]], undefined, patches).map(ids), [
      ['deprecate', []],
      ['deprecate', []],
    ]);
  });

  describe('runbook patches on the dev server', () => {
    let env: TestWorkflowEnvironment;
    const taskQueue = uniqueId('patches');
    const idle = uniqueId('patches-idle');

    before(async () => {
      env = await devServerEnv();
    });
    after(async () => {
      for (const workflowId of [idle, `${idle}-begun`]) {
        await env?.client.workflow
          .getHandle(workflowId)
          .terminate('test over')
          .catch(() => undefined);
      }
      await env?.teardown();
    });

    it('reads the markers of open runs from their histories', { timeout: 120_000 }, async () => {
      // One run no worker has touched (no marker), one whose first task set its markers and which then waits on an
      // activity no worker runs.
      await env.client.workflow.start(verifyBackup, {
        taskQueue: uniqueId('patches-nobody'),
        workflowId: idle,
        args: [],
      });
      const begun = await env.client.workflow.start(verifyBackup, { taskQueue, workflowId: `${idle}-begun`, args: [] });
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: {},
      });
      await worker.runUntil(
        waitUntil('the first workflow task', async () =>
          (await begun.fetchHistory()).events?.some((e) => e.activityTaskScheduledEventAttributes),
        ),
      );
      const query = `WorkflowId IN ("${idle}", "${idle}-begun")`;
      await waitUntil(
        'both runs listed',
        () => env.client.workflow.count(query),
        (c) => c.count === 2,
      );

      const later = new Date(Date.now() + 3_600_000).toISOString();
      const result = await runbookCli(['patches', '--json', '--deployed-at', later, '--query', query]);
      assert.equal(result.code, 0, result.stderr);
      const report = jsonLines(result.stdout) as PatchStatus[];
      assert.deepEqual(
        report.map((p) => p.id),
        PATCHES.map((p) => p.id),
      );
      const of = (id: string) =>
        report
          .find((p) => p.id === id)!
          .before.map((r) => r.workflowId)
          .sort();
      assert.deepEqual(of(CHANNELS_APART_PATCH), [idle]);
      assert.deepEqual(of(RUN_ID_TAIL_PATCH), [idle, `${idle}-begun`].sort());
      assert.equal(report.find((p) => p.id === CHANNELS_APART_PATCH)!.verdict, 'keep');

      // Counted from the day each landed, both runs started after every patch: nothing to keep.
      const now = jsonLines((await runbookCli(['patches', '--json', '--query', query])).stdout) as PatchStatus[];
      assert.deepEqual(
        now.filter((p) => p.verdict === 'keep').map((p) => p.id),
        [],
      );

      // Only one patch deployed later than it landed: only that one holds a run back.
      const one = await runbookCli([
        'patches',
        '--json',
        '--deployed-at',
        `${CHANNELS_APART_PATCH}=${later}`,
        '--query',
        query,
      ]);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(
        (jsonLines(one.stdout) as PatchStatus[])
          .filter((p) => p.verdict === 'keep')
          .map((p) => [p.id, p.before.length]),
        [[CHANNELS_APART_PATCH, 1]],
      );

      const human = await runbookCli(['patches', '--deployed-at', later, '--query', query]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(
        human.stdout,
        new RegExp(`keep\\s+${CHANNELS_APART_PATCH}\\s+landed \\d{4}-\\d{2}-\\d{2}\\s+1 open run`),
      );
    });

    it('refuses a deployment time that is not one, or a patch it does not know, naming the option', async () => {
      for (const [value, message] of [
        ['last tuesday', /--deployed-at: "last tuesday": must be an ISO 8601 time/],
        [`${CHANNELS_APART_PATCH}=soon`, /--deployed-at: ".*=soon": must be an ISO 8601 time/],
        ['no-such-patch=2026-11-27T09:00:00Z', /--deployed-at: "no-such-patch" is no patch this release knows/],
      ] as const) {
        const result = await runbookCli(['patches', '--deployed-at', value]);
        assert.equal(result.code, 2, value);
        assert.match(result.stderr, message);
      }
    });
  });
});

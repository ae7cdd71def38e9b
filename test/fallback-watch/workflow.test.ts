/**
 * aiFallbackWatch on the time-skipping server: the circuit breaker's transitions (seed 002: 5 failures, 60 s open,
 * a half-open probe) and the fallback switched through its endpoint, and the state carried across continueAsNew.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { aiFallbackWatch } from '../../src/workflows';
import { fallbackWatchStatusQuery, type FallbackWatchStatus } from '../../src/workflows/fallback-watch/messages';
import { HEALTHY_BODY } from '../helpers/http-receiver';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';

const HEALTH = '/primary/health';
const ENABLE = '/ai/fallback/enable';
const DISABLE = '/ai/fallback/disable';

describe('aiFallbackWatch on the time-skipping test server', () => {
  let failing = false;
  const suite = runbookSuite('aiops_test_fallback_watch', (receiver) => {
    receiver.route(HEALTH, () =>
      failing
        ? { status: 503, body: { status: 'down', error: 'model server down' } }
        : { status: 200, body: HEALTHY_BODY },
    );
    receiver.route(ENABLE, { status: 202, body: { status: 'accepted' } });
    receiver.route(DISABLE, { status: 202, body: { status: 'accepted' } });
    return {
      WEDSYNC_PRIMARY_HEALTH_URL: receiver.url(HEALTH),
      WEDSYNC_FALLBACK_ENABLE_URL: receiver.url(ENABLE),
      WEDSYNC_FALLBACK_DISABLE_URL: receiver.url(DISABLE),
    };
  });

  const start = (input: Parameters<typeof aiFallbackWatch>[0]) =>
    suite.env.client.workflow.start(aiFallbackWatch, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('ai-fallback-watch'),
      args: [input],
    });
  const status = (handle: WorkflowHandle, pred: (s: FallbackWatchStatus) => boolean) =>
    queryUntil(handle, fallbackWatchStatusQuery, pred, 20_000);
  /** The Idempotency-Keys of one watch's calls to a fallback endpoint (the receiver serves every test of the file). */
  const keys = (path: string, handle: WorkflowHandle) =>
    suite.receiver.requests
      .filter((r) => r.path === path)
      .map((r) => String(r.headers['idempotency-key']))
      .filter((k) => k.startsWith(`${handle.workflowId}/`));

  suite.test(
    'opens after 5 failed probes, probes once after 60 s half-open, closes on success and opens again on failure',
    async () => {
      failing = true;
      const handle = await start({ intervalSeconds: 10, failureThreshold: 5, openSeconds: 60 });
      await status(handle, (s) => s.rounds >= 1);
      for (let round = 2; round <= 4; round++) {
        await suite.env.sleep(10_000);
        const s = await status(handle, (x) => x.rounds >= round);
        assert.equal(s.breaker, 'closed', `${round} failures are not yet 5`);
      }
      assert.equal(keys(ENABLE, handle).length, 0);
      await suite.env.sleep(10_000);
      const open = await status(handle, (s) => s.rounds >= 5 && s.fallbackEnabled);
      assert.equal(open.breaker, 'open');
      assert.equal(open.consecutiveFailures, 5);
      assert.deepEqual(keys(ENABLE, handle), [`${handle.workflowId}/fallback/1`]);
      assert.ok(
        pagerDutyEvents(suite.receiver).some((e) =>
          /closed → open: 5 failed probes in a row/.test(e.payload?.summary ?? ''),
        ),
      );

      // Open: the AI service is left alone until the 60 s are up.
      const probesWhenOpened = suite.receiver.callsTo(HEALTH);
      await suite.env.sleep(30_000);
      assert.equal((await handle.query(fallbackWatchStatusQuery)).breaker, 'open');
      assert.equal(suite.receiver.callsTo(HEALTH), probesWhenOpened);

      failing = false;
      await suite.env.sleep(30_000);
      const closed = await status(handle, (s) => s.breaker === 'closed' && !s.fallbackEnabled);
      assert.equal(suite.receiver.callsTo(HEALTH), probesWhenOpened + 1, 'one half-open probe');
      assert.deepEqual(
        closed.recentTransitions.map((t) => `${t.from}->${t.to}`),
        ['closed->open', 'open->half-open', 'half-open->closed'],
      );
      assert.deepEqual(keys(DISABLE, handle), [`${handle.workflowId}/fallback/3`]);

      // Failing again: five more failures open it; the half-open probe fails and it opens again.
      failing = true;
      const rounds = closed.rounds;
      for (let i = 1; i <= 5; i++) {
        await suite.env.sleep(10_000);
        await status(handle, (s) => s.rounds >= rounds + i);
      }
      await status(handle, (s) => s.breaker === 'open' && s.fallbackEnabled);
      await suite.env.sleep(60_000);
      const reopened = await status(handle, (s) => s.transitions >= 6);
      assert.equal(reopened.breaker, 'open');
      assert.deepEqual(
        reopened.recentTransitions.slice(3).map((t) => `${t.from}->${t.to}`),
        ['closed->open', 'open->half-open', 'half-open->open'],
      );
      assert.match(reopened.recentTransitions[5].reason, /half-open probe failed: .*503/);
      // The fallback stayed on through the half-open probe: no second enable, no disable.
      assert.deepEqual(keys(ENABLE, handle), [`${handle.workflowId}/fallback/1`, `${handle.workflowId}/fallback/4`]);
      assert.equal(keys(DISABLE, handle).length, 1);
      assert.ok(slackTexts(suite.receiver).some((t) => /half-open → closed/.test(t)));
      await handle.terminate('test done');
    },
  );

  suite.test('carries the breaker across continueAsNew: failures counted in two runs open it once', async () => {
    failing = true;
    // Open for ten minutes: the test server's clock also runs with real time, and the half-open probe is not this
    // test's subject.
    const handle = await start({ intervalSeconds: 10, failureThreshold: 5, openSeconds: 600, roundsPerRun: 3 });
    // Ten seconds of test time a round until the breaker opens; a loaded machine may be between runs at a look.
    let seen = await status(handle, (x) => x.rounds >= 1);
    for (let i = 0; i < 10 && !seen.fallbackEnabled; i++) {
      await suite.env.sleep(10_000);
      seen = await status(handle, (x) => x.rounds > seen.rounds || x.fallbackEnabled);
    }
    const s = await status(handle, (x) => x.fallbackEnabled);
    // Five failures in a row at three rounds a run span at least two runs, however the rounds fell on a loaded machine.
    assert.ok(s.continuedAsNew >= 1, `continued as new ${s.continuedAsNew} times`);
    assert.equal(s.breaker, 'open');
    assert.equal(s.consecutiveFailures, 5);
    assert.equal(s.recentTransitions.filter((t) => t.from === 'closed' && t.to === 'open').length, 1);
    assert.equal(keys(ENABLE, handle)[0], `${handle.workflowId}/fallback/1`);
    const describe = await handle.describe();
    assert.notEqual(describe.runId, handle.firstExecutionRunId, 'a later run holds it');
    await handle.terminate('test done');
    await replayOwnHistory(suite.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId));
  });

  suite.test('a fallback endpoint that refuses is tried again while the breaker is open', async () => {
    failing = true;
    // More refusals than one call's retries (5 attempts): the first round's switch fails, a later one succeeds.
    let refusals = 6;
    suite.receiver.route(ENABLE, () => (refusals-- > 0 ? { status: 500, body: {} } : { status: 202, body: {} }));
    try {
      const handle = await start({ intervalSeconds: 10, failureThreshold: 1, openSeconds: 600 });
      const refused = await status(handle, (s) => s.breaker === 'open' && s.fallbackProblem !== undefined);
      assert.equal(refused.fallbackEnabled, false);
      for (let i = 0; i < 3; i++) await suite.env.sleep(10_000);
      const on = await status(handle, (s) => s.fallbackEnabled);
      assert.equal(on.fallbackProblem, undefined);
      assert.ok(new Set(keys(ENABLE, handle)).size === 1, 'every try under the one transition key');
      await handle.terminate('test done');
    } finally {
      suite.receiver.route(ENABLE, { status: 202, body: { status: 'accepted' } });
    }
  });

  suite.test('refuses bad input and a hand-written carried state, naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(aiFallbackWatch, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ai-fallback-watch'),
        args: [{ failureThreshold: 0 }],
      }),
      /^failureThreshold: must be a whole number from 1 to 100$/,
    );
    await rejectsWithCause(
      suite.env.client.workflow.execute(aiFallbackWatch as (i: object, s: object) => Promise<never>, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ai-fallback-watch'),
        args: [{}, { breaker: 'ajar' }],
      }),
      /^breaker: /,
    );
  });
});

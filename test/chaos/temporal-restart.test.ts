/**
 * Issue 18: the Temporal server stopped and started again, on the same SQLite file and port, while a cache purge
 * unlinks keys and a crisis tells its couples. Both must complete (the crisis once a person resolves it at its gate,
 * after the restart) with every effect landed once: keys unlinked once as Redis's MONITOR saw them, no other key
 * removed, each couple told under one Idempotency-Key.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { purgeCache, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  chaosSuite,
  countRun,
  couplesToldTwice,
  loadCrisisCouples,
  loadPurgeKeys,
  removePurgeKeys,
  resultWithin,
  statusWhen,
  tallyPurgeKeys,
  watchUnlinks,
} from '../helpers/chaos';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { honourIdempotency } from '../helpers/runbook-receiver';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const KEYS = 60_000;
const COUPLES = 1_500;
/** How long the server stays down: shorter than the purge's 30-second heartbeat timeout, as a restart is. */
const DOWN_MS = 5_000;
const DEADLINE_MS = 180_000;

describe('the Temporal server restarted with workflows in flight', () => {
  // A server of the suite's own: the stack's is shared with the other test files.
  const suite = chaosSuite('aiops_test_chaos_restart', { redisUrl: redisUrlFor(REDIS_DB.chaos), ownServer: true });

  suite.scenario(
    'a cache purge and a crisis complete with every effect once',
    {
      row: `Temporal server restart: cache purge (${KEYS} keys) and crisis (${COUPLES} couples)`,
      workflows: 2,
      timeout: 600_000,
    },
    async (tally) => {
      const { deps, receiver } = suite;
      const ledger = honourIdempotency(receiver, 20);
      await loadCrisisCouples(deps.pool, COUPLES);
      const run = uniqueId('r').slice(-12);
      await loadPurgeKeys(deps.redis, run, KEYS);
      const unlinks = await watchUnlinks(REDIS_DB.chaos, run);
      try {
        const taskQueue = uniqueId('chaos-restart');
        await suite.worker(taskQueue);
        const purge = await suite.client.workflow.start(purgeCache, {
          taskQueue,
          workflowId: uniqueId('chaos-restart-purge'),
          args: [{ pattern: `ai:${run}:*`, scanCount: 10, unlinkBatch: 10 }],
        });
        const input = { failure: uniqueId('restart') };
        const crisis = await suite.client.workflow.start(weddingDayCrisis, {
          taskQueue,
          workflowId: crisisWorkflowId(input),
          args: [input],
        });
        // Both in the middle of their long step when the server goes.
        // The purge a quarter through, as Redis saw it (the server's checkpoint lags: heartbeats are throttled).
        const purgeClosed = async () => (await purge.describe()).status.name !== 'RUNNING';
        await waitUntil(
          'the purge under way',
          async () => unlinks.unlinked.size >= 0.25 * KEYS || purgeClosed(),
          Boolean,
          120_000,
        );
        if (await purgeClosed()) tally.notes.push('the purge finished before the stop');
        const toldBefore = ledger.told.length;
        const unlinkedBefore = unlinks.unlinked.size;
        const { stoppedAt, upAt } = await suite.restartServer(DOWN_MS);
        tally.notes.push(
          `down ${((upAt - stoppedAt) / 1000).toFixed(1)} s; ${unlinkedBefore} of ${KEYS} keys unlinked and ${toldBefore} of ${COUPLES} couples told before the stop`,
        );

        const purged = await resultWithin<{ removed: number }>(purge, DEADLINE_MS, tally.notes);
        await countRun(tally, purge, purged !== undefined, (Date.now() - upAt) / 1000);
        const atGate = await statusWhen(
          crisis,
          crisisStatusQuery,
          (s) => s.gates.some((g) => g.gate === 'resolve'),
          DEADLINE_MS,
        );
        let resolved: { resolvedBy?: string } | undefined;
        if (atGate) {
          await crisis.executeUpdate(decideUpdate, {
            args: [{ gate: 'resolve', decision: 'approve', by: 'cto', reason: 'restart drill over' }],
          });
          resolved = await resultWithin(crisis, DEADLINE_MS, tally.notes);
        }
        await countRun(tally, crisis, resolved?.resolvedBy === 'cto', (Date.now() - upAt) / 1000);

        const told = new Set(ledger.told).size;
        const toldTwice = couplesToldTwice(receiver);
        const left = await tallyPurgeKeys(tally, deps.redis, run, KEYS, unlinks.repeated() + toldTwice);
        tally.lost += COUPLES - told;
        if (ledger.repeats) tally.notes.push(`${ledger.repeats} repeated sends dropped by key`);
        assert.equal(purged?.removed, KEYS, 'the purge completed and counted every key once');
        assert.equal(resolved?.resolvedBy, 'cto', 'the crisis took its decision after the restart and completed');
        assert.deepEqual(
          { left, unlinkedTwice: unlinks.repeated(), told, toldTwice },
          { left: { ai: 0, keep: KEYS }, unlinkedTwice: 0, told: COUPLES, toldTwice: 0 },
          'every ai: key removed once and no other, every couple told once',
        );
        await replayOwnHistory(purge);
        await replayOwnHistory(crisis);
      } finally {
        unlinks.close();
        await removePurgeKeys(deps.redis, run);
      }
    },
  );
});

/**
 * Issue 18: the Temporal server stopped and started again, on the same SQLite file and port, while a cache purge
 * unlinks keys and a crisis tells its couples. Both must complete (the crisis once a person resolves it at its gate,
 * after the restart) with every effect landed once: keys unlinked once as Redis's MONITOR saw them, no other key
 * removed, each couple told under one Idempotency-Key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createActivities } from '../../src/activities';
import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import type { OwnedDeps } from '../../src/workers/deps';
import { purgeCache, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { newTally, recordTally, resultWithin, statusWhen } from '../helpers/chaos';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import { startDevServer, stopDevServer, type DevServer } from '../helpers/dev-server';
import type { HttpReceiver } from '../helpers/http-receiver';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { signingInterceptor } from '../helpers/operators';
import { CRISIS_PATHS, honourIdempotency, receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import { quietRuntime, replayOwnHistory, testSinks, uniqueId, workflowBundle } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const KEYS = 60_000;
const COUPLES = 1_500;
/** How long the server stays down: shorter than the purge's 30-second heartbeat timeout, as a restart is. */
const DOWN_MS = 5_000;
const DEADLINE_MS = 180_000;

describe('the Temporal server restarted with workflows in flight', () => {
  let server: DevServer | undefined;
  let receiver: HttpReceiver | undefined;
  let deps: OwnedDeps | undefined;
  after(async () => {
    if (server) await stopDevServer(server.child);
    await deps?.close();
    await receiver?.stop();
  });

  it('a cache purge and a crisis complete with every effect once', { timeout: 600_000 }, async () => {
    quietRuntime();
    const tally = newTally(`Temporal server restart: cache purge (${KEYS} keys) and crisis (${COUPLES} couples)`);
    const dbFile = join(mkdtempSync(join(tmpdir(), 'aiops-restart-')), 'temporal.db');
    server = await startDevServer(dbFile);
    receiver = await startRunbookReceiver();
    const ledger = honourIdempotency(receiver, 20);
    const databaseUrl = await testDatabase('aiops_test_chaos_restart');
    deps = await testDeps({
      ...receiverEnv(receiver),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrlFor(REDIS_DB.chaos),
    });
    const redis = deps.redis;
    await deps.pool.query('DELETE FROM active_crises');
    await deps.pool.query(
      `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
       SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
         FROM generate_series(1, $1) g`,
      [COUPLES],
    );
    const run = uniqueId('r').slice(-12);
    for (let j = 0; j < KEYS; j += 5000) {
      const p = redis.pipeline();
      for (let k = j; k < j + 5000; k++) p.set(`ai:${run}:${k}`, 'v').set(`keep:${run}:${k}`, 'v');
      await p.exec();
    }
    // Every UNLINK Redis executed on this DB, key by key: a key unlinked twice is a repeated effect.
    const unlinked = new Map<string, number>();
    const monitorBase = new Redis(redisUrlFor(REDIS_DB.chaos));
    const monitor = await monitorBase.monitor();
    monitor.on('monitor', (_t: string, args: string[], _s: string, database: string) => {
      if (database !== String(REDIS_DB.chaos) || args[0]?.toLowerCase() !== 'unlink') return;
      for (const key of args.slice(1)) if (key.includes(run)) unlinked.set(key, (unlinked.get(key) ?? 0) + 1);
    });

    const converter = dataConverter(loadConfig());
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({
      connection,
      dataConverter: converter,
      interceptors: { workflow: [signingInterceptor()] },
    });
    const taskQueue = uniqueId('chaos-restart');
    const activities = createActivities(deps);
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
      dataConverter: converter,
      ...testSinks(activities),
    });
    const running = worker.run();
    try {
      const purge = await client.workflow.start(purgeCache, {
        taskQueue,
        workflowId: uniqueId('chaos-restart-purge'),
        args: [{ pattern: `ai:${run}:*`, scanCount: 10, unlinkBatch: 10 }],
      });
      const input = { failure: uniqueId('restart') };
      const crisis = await client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      // Both in the middle of their long step when the server goes.
      // The purge a quarter through, as Redis saw it (the server's checkpoint lags: heartbeats are throttled).
      const purgeClosed = async () => (await purge.describe()).status.name !== 'RUNNING';
      await waitUntil(
        'the purge under way',
        async () => unlinked.size >= 0.25 * KEYS || purgeClosed(),
        Boolean,
        120_000,
      );
      if (await purgeClosed()) tally.notes.push('the purge finished before the stop');
      const toldBefore = ledger.told.length;
      const unlinkedBefore = unlinked.size;
      await stopDevServer(server.child);
      const stoppedAt = Date.now();
      await new Promise((r) => setTimeout(r, DOWN_MS));
      server = await startDevServer(dbFile, { port: server.port, uiPort: server.uiPort });
      const upAt = Date.now();
      tally.notes.push(
        `down ${((upAt - stoppedAt) / 1000).toFixed(1)} s; ${unlinkedBefore} of ${KEYS} keys unlinked and ${toldBefore} of ${COUPLES} couples told before the stop`,
      );

      const purged = await resultWithin<{ removed: number }>(purge, DEADLINE_MS, tally.notes);
      const recoveries = purged ? [(Date.now() - upAt) / 1000] : [];
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
        if (resolved) recoveries.push((Date.now() - upAt) / 1000);
      }
      tally.runs = 2;
      tally.completed = (purged ? 1 : 0) + (resolved?.resolvedBy === 'cto' ? 1 : 0);
      tally.stuck = tally.runs - tally.completed;
      tally.recoverySeconds = recoveries;

      const left = { ai: 0, keep: 0 };
      for await (const found of redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
        for (const k of found as string[]) left[k.startsWith('ai:') ? 'ai' : 'keep'] += 1;
      }
      const told = new Set(ledger.told);
      tally.lost += left.ai + (COUPLES - told.size);
      const keysByCouple = new Map<string, Set<string>>();
      for (const r of receiver.requests.filter((q) => q.path === CRISIS_PATHS.couple)) {
        const email = String((JSON.parse(r.body) as { couple_email?: unknown }).couple_email);
        keysByCouple.set(email, (keysByCouple.get(email) ?? new Set()).add(String(r.headers['idempotency-key'])));
      }
      tally.duplicated +=
        KEYS -
        left.keep +
        [...unlinked.values()].filter((n) => n > 1).length +
        [...keysByCouple.values()].filter((k) => k.size > 1).length;
      if (ledger.repeats) tally.notes.push(`${ledger.repeats} repeated sends dropped by key`);
      recordTally(tally);
      assert.deepEqual(
        { completed: tally.completed, duplicated: tally.duplicated, lost: tally.lost, stuck: tally.stuck },
        { completed: 2, duplicated: 0, lost: 0, stuck: 0 },
        tally.notes.join('; '),
      );
      assert.equal(purged!.removed, KEYS);
      await replayOwnHistory(purge);
      await replayOwnHistory(crisis);
    } finally {
      monitor.disconnect();
      monitorBase.disconnect();
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
      for await (const found of redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
        if ((found as string[]).length) await redis.unlink(...(found as string[]));
      }
    }
  });
});

/**
 * What Temporal stores, read as someone with access to the server but not the keys would: no summary, description,
 * reason, e-mail or failure text in plaintext. Through the codec the same history reads normally, also after the
 * active key changed while the workflow was running.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { dataConverter, type ProjectDataConverter } from '../../src/client/data-converter';
import { KEY_ID_METADATA, PayloadKeyUnknownError } from '../../src/codec/aes-gcm-codec';
import { decodeHistory } from '../../src/codec/history';
import type { PayloadKey } from '../../src/config';
import type { OwnedDeps } from '../../src/workers/deps';
import { incidentResponse } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { alertSignal, incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import type { HttpReceiver } from '../helpers/http-receiver';
import { receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import { devServerEnv, queryUntil, testSinks, uniqueId, workflowBundle } from '../helpers/temporal';
import { signingInterceptor } from '../helpers/operators';

const EMAIL = 'anna.bride@example.com';
const SUMMARY = `Checkout refuses the deposit of ${EMAIL}`;
const REASON = `phoned ${EMAIL}, vendor confirmed`;

const keyOf = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const converterOf = (keys: PayloadKey[], activeKeyId: string) => dataConverter({ payloads: { keys, activeKeyId } });

/** The history's JSON and, since payload data is base64 there, every base64 field decoded: all a reader could see. */
function readable(history: Parameters<typeof historyToJSON>[0]): string {
  const json = historyToJSON(history);
  const decoded = [...json.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) =>
    Buffer.from(m[1], 'base64').toString('utf8'),
  );
  return [json, ...decoded].join('\n');
}

/** The key ids named in the history's sealed payloads. */
function keyIds(history: Parameters<typeof historyToJSON>[0]): Set<string> {
  const ids = new Set<string>();
  const meta = Buffer.from(KEY_ID_METADATA).toString();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const m = (node as { metadata?: Record<string, Uint8Array> }).metadata;
    if (m && m[meta]) ids.add(Buffer.from(m[meta]).toString());
    for (const v of Object.values(node)) if (!(v instanceof Uint8Array)) walk(v);
  };
  walk(history);
  return ids;
}

describe('payloads in the history on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let receiver: HttpReceiver;
  let deps: OwnedDeps;
  const started: string[] = [];

  before(async () => {
    env = await devServerEnv();
    receiver = await startRunbookReceiver();
    deps = await testDeps({ ...receiverEnv(receiver), DATABASE_URL: await testDatabase('aiops_test_codec') });
  });
  after(async () => {
    for (const id of started)
      await env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await deps?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  const workerWith = async (taskQueue: string, converter: ProjectDataConverter) =>
    Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
      ...testSinks(createActivities(deps)),
      dataConverter: converter,
    });
  const clientWith = (converter: ProjectDataConverter) =>
    new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: converter,
      interceptors: { workflow: [signingInterceptor()] },
    });

  const openIncident = (client: Client, taskQueue: string) => {
    const fingerprint = uniqueId('codec');
    started.push(incidentWorkflowId(fingerprint));
    return client.workflow.signalWithStart(incidentResponse, {
      taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [{ severity: 'P1', service: 'ai-gateway-service', summary: SUMMARY, fingerprint }],
      signal: alertSignal,
      signalArgs: [{ summary: SUMMARY }],
    });
  };

  it(
    'holds no plaintext summary, reason, e-mail or failure text, and reads normally through the codec',
    {
      timeout: 180_000,
    },
    async () => {
      const key = keyOf('k-a');
      const converter = converterOf([key], key.id);
      const client = clientWith(converter);
      const taskQueue = uniqueId('codec');
      const worker = await workerWith(taskQueue, converter);
      await worker.runUntil(async () => {
        const handle = await openIncident(client, taskQueue);
        await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'acknowledge'), 60_000);
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: REASON }],
        });
        const status = await queryUntil(handle, incidentStatusQuery, (s) => s.acknowledgedBy === 'oncall', 60_000);
        assert.equal(status.summary, SUMMARY);

        // A start the workflow refuses: its failure names the field, and that text is sealed too.
        const badId = incidentWorkflowId(uniqueId('codec-bad'));
        started.push(badId);
        const bad = await client.workflow.start(incidentResponse, {
          taskQueue,
          workflowId: badId,
          args: [{ severity: 'P9', service: 'ai-gateway-service', summary: SUMMARY, fingerprint: 'x' } as never],
        });
        const failure = await bad.result().then(
          () => assert.fail('the bad input was accepted'),
          (err: unknown) => err,
        );
        assert.ok(failure instanceof WorkflowFailedError);
        assert.match(failure.cause?.message ?? '', /severity/);

        for (const id of [handle.workflowId, badId]) {
          const raw = await env.client.workflow.getHandle(id).fetchHistory();
          const seen = readable(raw);
          for (const text of [EMAIL, 'Checkout refuses', 'vendor confirmed', 'severity', 'ai-gateway-service']) {
            assert.ok(!seen.includes(text), `"${text}" is readable in the raw history of ${id}`);
          }
          assert.deepEqual([...keyIds(raw)], [key.id]);
          const opened = readable(await decodeHistory(raw, converter.payloadCodecs[0]));
          assert.ok(opened.includes(id === badId ? 'severity' : EMAIL), `the codec opens the history of ${id}`);
        }
        const failed = (await env.client.workflow.getHandle(badId).fetchHistory()).events?.find(
          (e) => e.workflowExecutionFailedEventAttributes,
        );
        assert.equal(failed?.workflowExecutionFailedEventAttributes?.failure?.message, 'Encoded failure');
      });
    },
  );

  it(
    'still opens what the old key sealed after the active key is rotated in a running workflow',
    {
      timeout: 180_000,
    },
    async () => {
      const old = keyOf('k-2026-01');
      const next = keyOf('k-2026-07');
      const before = converterOf([old], old.id);
      const rotated = converterOf([old, next], next.id);
      const taskQueue = uniqueId('codec-rotation');
      let workflowId = '';
      await (
        await workerWith(taskQueue, before)
      ).runUntil(async () => {
        const handle = await openIncident(clientWith(before), taskQueue);
        workflowId = handle.workflowId;
        await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'acknowledge'), 60_000);
      });
      // A new worker and client with the new active key, the old one kept for opening.
      await (
        await workerWith(taskQueue, rotated)
      ).runUntil(async () => {
        const handle = clientWith(rotated).workflow.getHandle(workflowId);
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: REASON }],
        });
        const status = await queryUntil(handle, incidentStatusQuery, (s) => s.acknowledgedBy === 'oncall', 60_000);
        assert.equal(status.summary, SUMMARY);
      });
      const raw = await env.client.workflow.getHandle(workflowId).fetchHistory();
      assert.deepEqual([...keyIds(raw)].sort(), [old.id, next.id]);
      const opened = readable(await decodeHistory(raw, rotated.payloadCodecs[0]));
      assert.ok(opened.includes(SUMMARY) && opened.includes(REASON));
      // Dropping the old key too early is reported by name, not as garbage.
      await assert.rejects(
        decodeHistory(
          await env.client.workflow.getHandle(workflowId).fetchHistory(),
          converterOf([next], next.id).payloadCodecs[0],
        ),
        (err: unknown) => err instanceof PayloadKeyUnknownError && err.message.includes(old.id),
      );
    },
  );
});

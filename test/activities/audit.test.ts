import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createAuditActivities } from '../../src/activities/audit';
import type { OwnedDeps } from '../../src/workers/deps';
import { testDeps } from '../helpers/deps';

describe('audit log in PostgreSQL', () => {
  let deps: OwnedDeps;
  before(async () => {
    deps = await testDeps();
  });
  after(() => deps.close());

  const record = (eventKey: string) => ({
    eventKey,
    occurredAt: new Date().toISOString(),
    workflowId: 'audit-test',
    workflowType: 'test',
    runId: 'run-1',
    step: 'gate:resolve',
    actor: 'cto',
    action: 'decision-update',
    outcome: 'approve',
    reason: 'fixed',
    durationMs: 1200,
  });

  it('writes each record once however often a batch holding it is retried', async () => {
    const key = `audit-test/${randomUUID()}`;
    const { recordAudit } = createAuditActivities(deps);
    await recordAudit([record(key)]);
    await recordAudit([record(key), record(`${key}/2`)]);
    const { rows } = await deps.pool.query(
      'SELECT event_key, actor, outcome, duration_ms FROM audit_log WHERE event_key LIKE $1 ORDER BY id',
      [`${key}%`],
    );
    assert.deepEqual(rows, [
      { event_key: key, actor: 'cto', outcome: 'approve', duration_ms: 1200 },
      { event_key: `${key}/2`, actor: 'cto', outcome: 'approve', duration_ms: 1200 },
    ]);
  });

  it('is append-only for the worker role: no UPDATE, no DELETE', async () => {
    await assert.rejects(
      deps.pool.query(`UPDATE audit_log SET outcome = 'reject' WHERE workflow_id = 'audit-test'`),
      /permission denied/,
    );
    await assert.rejects(
      deps.pool.query(`DELETE FROM audit_log WHERE workflow_id = 'audit-test'`),
      /permission denied/,
    );
  });

  it('refuses a record without an actor, naming the field', async () => {
    await assert.rejects(
      createAuditActivities(deps).recordAudit([{ ...record(`k-${randomUUID()}`), actor: '' }]),
      /actor: must be a non-empty string/,
    );
  });
});

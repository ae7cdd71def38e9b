/** mergeRepeats: how a flood of identical audit entries is written (src/workflows/gates/audit-trail.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord } from '../../src/contracts/audit';
import { mergeRepeats } from '../../src/workflows/gates/audit-trail';

const entry = (seq: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  eventKey: `wf/run/${seq}`,
  occurredAt: new Date(Date.UTC(2026, 10, 26, 9, 0, seq)).toISOString(),
  workflowId: 'wf',
  workflowType: 'incidentResponse',
  runId: 'run',
  step: 'gate:acknowledge',
  actor: 'mallory',
  action: 'decision-signal',
  outcome: 'rejected',
  reason: 'signature: required',
  details: { decision: 'approve' },
  ...over,
});

describe('mergeRepeats', () => {
  it('writes a run of identical entries as the first, counting them, and keeps the rest as they came', () => {
    const merged = mergeRepeats([
      entry(1),
      entry(2),
      entry(3),
      entry(4, { actor: 'alice', outcome: 'approved', reason: 'looks right' }),
      entry(5),
      entry(6, { details: { decision: 'reject' } }),
    ]);
    assert.deepEqual(
      merged.map((r) => [r.eventKey, r.actor, r.details]),
      [
        ['wf/run/1', 'mallory', { decision: 'approve', repeated: 3, lastAt: entry(3).occurredAt }],
        ['wf/run/4', 'alice', { decision: 'approve' }],
        ['wf/run/5', 'mallory', { decision: 'approve' }],
        ['wf/run/6', 'mallory', { decision: 'reject' }],
      ],
    );
  });

  it('leaves the records it was given untouched, so a retried write sends the same', () => {
    const records = [entry(1), entry(2)];
    const before = structuredClone(records);
    mergeRepeats(records);
    assert.deepEqual(records, before);
  });
});

/** The audit log: an append-only PostgreSQL table that every workflow writes its decisions and changes to. */
import type { Pool } from 'pg';
import { invalidInput } from '../common/failures';
import type { AuditRecord } from '../workflows/gates/types';

export interface AuditDeps {
  pool: Pool;
}

export function createAuditActivities({ pool }: AuditDeps) {
  return {
    /** Safe to retry: event_key is unique, so a repeated write of the same event is a no-op. */
    async recordAudit(record: AuditRecord): Promise<void> {
      for (const field of ['eventKey', 'workflowId', 'workflowType', 'runId', 'step', 'actor', 'action', 'outcome'] as const) {
        if (typeof record[field] !== 'string' || record[field].length === 0) throw invalidInput(field, 'must be a non-empty string');
      }
      if (Number.isNaN(Date.parse(record.occurredAt))) throw invalidInput('occurredAt', 'must be an ISO timestamp');
      await pool.query(
        `INSERT INTO audit_log (event_key, occurred_at, workflow_id, workflow_type, run_id, step, actor, action, outcome,
                                reason, duration_ms, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (event_key) DO NOTHING`,
        [
          record.eventKey,
          record.occurredAt,
          record.workflowId,
          record.workflowType,
          record.runId,
          record.step,
          record.actor,
          record.action,
          record.outcome,
          record.reason ?? null,
          record.durationMs ?? null,
          JSON.stringify(record.details ?? {}),
        ],
      );
    },
  };
}

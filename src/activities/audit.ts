/** The audit log: an append-only PostgreSQL table that every workflow writes its decisions and changes to. */
import type { Pool } from 'pg';
import { invalidInput } from '../contracts/failures';
import type { AuditRecord } from '../contracts/audit';

export interface AuditDeps {
  pool: Pool;
}

export function createAuditActivities({ pool }: AuditDeps) {
  return {
    /**
     * Writes a batch of records in one statement. Safe to retry: event_key is unique, so records already
     * written by an earlier attempt are skipped.
     */
    async recordAudit(records: AuditRecord[]): Promise<void> {
      if (!Array.isArray(records)) throw invalidInput('records', 'must be an array');
      for (const record of records) {
        for (const field of [
          'eventKey',
          'workflowId',
          'workflowType',
          'runId',
          'step',
          'actor',
          'action',
          'outcome',
        ] as const) {
          if (typeof record[field] !== 'string' || record[field].length === 0)
            throw invalidInput(field, 'must be a non-empty string');
        }
        if (Number.isNaN(Date.parse(record.occurredAt))) throw invalidInput('occurredAt', 'must be an ISO timestamp');
      }
      if (records.length === 0) return;
      await pool.query(
        `INSERT INTO audit_log (event_key, occurred_at, workflow_id, workflow_type, run_id, step, actor, action, outcome,
                                reason, duration_ms, details)
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::integer[], $12::jsonb[])
         ON CONFLICT (event_key) DO NOTHING`,
        [
          records.map((r) => r.eventKey),
          records.map((r) => r.occurredAt),
          records.map((r) => r.workflowId),
          records.map((r) => r.workflowType),
          records.map((r) => r.runId),
          records.map((r) => r.step),
          records.map((r) => r.actor),
          records.map((r) => r.action),
          records.map((r) => r.outcome),
          records.map((r) => r.reason ?? null),
          records.map((r) => (r.durationMs === undefined ? null : Math.round(r.durationMs))),
          records.map((r) => JSON.stringify(r.details ?? {})),
        ],
      );
    },
  };
}

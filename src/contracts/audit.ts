/** One audit-log record: what every workflow writes and the `audit_log` table holds. Types only. */
import type { Sinks } from '@temporalio/workflow';

export interface AuditRecord {
  eventKey: string;
  occurredAt: string;
  workflowId: string;
  workflowType: string;
  runId: string;
  step: string;
  actor: string;
  action: string;
  outcome: string;
  reason?: string;
  durationMs?: number;
  details?: Record<string, unknown>;
}

/**
 * What workflow code hands the worker to write outside any workflow task: records of updates a validator refused,
 * which no activity can write (a validator issues no commands). Registered by the worker (src/workers/sinks.ts).
 */
export interface AuditSinks extends Sinks {
  audit: { refusedUpdate(record: AuditRecord): void };
}

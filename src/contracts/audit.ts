/** One audit-log record: what every workflow writes and the `audit_log` table holds. Types only. */
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

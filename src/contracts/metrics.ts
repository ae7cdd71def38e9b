/**
 * The project's own metrics, as Prometheus shows them (counters get `_total`). Workflows count runs, gates and
 * escalations (src/workflows/metrics.ts), activities count notifications; the worker starts every counter at zero
 * so the dashboards' and rules' queries find a series before the first event (src/workers/telemetry.ts).
 */
export const METRICS = {
  runsStarted: { name: 'aiops_runbook_started', unit: 'runs', help: 'Runbook runs started' },
  runsCompleted: { name: 'aiops_runbook_completed', unit: 'runs', help: 'Runbook runs completed' },
  runsFailed: { name: 'aiops_runbook_failed', unit: 'runs', help: 'Runbook runs failed' },
  escalations: { name: 'aiops_escalations', unit: 'escalations', help: 'Escalation tiers told' },
  gatesOpened: { name: 'aiops_gates_opened', unit: 'gates', help: 'Approval gates opened' },
  notifications: { name: 'aiops_notifications', unit: 'notifications', help: 'Notifications by channel and outcome' },
  runDuration: { name: 'aiops_runbook_duration_seconds', unit: 's', help: 'Runbook run time, workflow clock' },
  gateWait: { name: 'aiops_gate_wait_seconds', unit: 's', help: 'Time approval gates waited for a decision' },
} as const;

/** Counters, started at zero by the worker. */
export const COUNTERS = [
  METRICS.runsStarted,
  METRICS.runsCompleted,
  METRICS.runsFailed,
  METRICS.escalations,
  METRICS.gatesOpened,
  METRICS.notifications,
] as const;

/** Histogram buckets for waits measured in minutes and hours, not the SDK's latency buckets. */
export const LONG_WAIT_BUCKETS_SECONDS = [1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200];

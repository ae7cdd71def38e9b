/**
 * Every runbook an operator can start, keyed by workflow type: what it does in one line, who starts it, the input
 * check it runs itself, and the workflow ID that makes a second start of the same thing a duplicate. The key type is
 * the set of workflows the worker registers (`src/workflows/index.ts`), so a workflow added there without an entry
 * here, or an entry for one that is gone, does not compile. Schedules come from the schedule table.
 */
import type { WorkflowIdReusePolicy } from '@temporalio/common';
import type * as workflows from '../workflows';
import { CRISIS_ID_REUSE } from './crisis';
import { parseBackupRetentionInput, parseDatabaseBackupInput, parseModelBackupInput } from '../contracts/backups';
import { parseRestoreDatabaseInput, parseVerifyBackupInput } from '../contracts/backups';
import { validatePurgeInput, validateRetentionInput } from '../contracts/maintenance';
import { SCHEDULES, type ScheduleDefinition } from '../schedules/table';
import { parseAccuracyWatchInput } from '../workflows/accuracy-watch/messages';
import { parseRecoverAiServiceInput } from '../workflows/ai-recovery/messages';
import { parseDrillInput } from '../workflows/dr-drill/messages';
import { parseChecklistInput } from '../workflows/checklists/messages';
import { crisisWorkflowId, parseWeddingDayCrisisInput } from '../workflows/crisis/messages';
import { parseCrisisManagerWatchInput } from '../workflows/crisis-watch/messages';
import { parseEveningReviewInput } from '../workflows/evening-review/messages';
import { parseIngressSwitchInput } from '../workflows/failover/messages';
import { parseAiFallbackWatchInput } from '../workflows/fallback-watch/messages';
import { incidentWorkflowId, parseIncidentInput } from '../workflows/incident/messages';
import { parseRetrainingInput } from '../workflows/model-retraining/messages';
import { parseMorningHealthCheckInput } from '../workflows/morning-health-check/messages';
import { parseMonitorInput } from '../workflows/operations/monitor/messages';
import { parseRollbackInput, parseRolloutInput } from '../workflows/operations/rollout/messages';
import { parseCompleteOutageInput } from '../workflows/outage/messages';
import { parseSundayWindowInput } from '../workflows/sunday-window/messages';
import { parseDataBreachInput } from '../workflows/data-breach/messages';
import { parseRemediationInput } from '../workflows/remediation/messages';
import { parseHighResponseTimesInput } from '../workflows/remediation-wedsync/high-response-times/messages';
import { parseResolveDatabaseConnectionsInput } from '../workflows/database-connections/messages';
import { parseReviewTheologicalAlignmentInput } from '../workflows/theological-review/messages';
import { parseRebuildVectorIndexInput } from '../workflows/vector-store/messages';
import { parseAiServiceOutageInput } from '../workflows/remediation-wedsync/ai-service-outage/messages';

export type WorkflowType = keyof typeof workflows;

export interface Runbook {
  summary: string;
  /** Who or what starts it besides its schedules. */
  startedBy: string;
  /** The workflow's own input check: throws the non-retryable InvalidInput naming the field. */
  parse: (raw: unknown) => unknown;
  /** The business key a start is refused twice on; absent, each start is a run of its own. */
  workflowId?: (input: never) => string | undefined;
  /** Whether that key may be used again once a run closed; absent, the server's default (any closed run). */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
}

const RUNBOOKS: Record<WorkflowType, Runbook> = {
  weddingDayCrisis: {
    summary: 'wedding-day crisis protocol: take over the AI crisis manager, notify couples, escalate',
    startedBy: 'operators, alerting, the crisis-manager watch',
    parse: parseWeddingDayCrisisInput,
    workflowId: (input: Parameters<typeof crisisWorkflowId>[0]) => crisisWorkflowId(input),
    workflowIdReusePolicy: CRISIS_ID_REUSE,
  },
  incidentResponse: {
    summary: 'incident response by severity: acknowledge, diagnose, quick fix, monitor, post-mortem',
    startedBy: 'alert receivers, operators',
    parse: parseIncidentInput,
    workflowId: (input: { fingerprint?: string }) =>
      input.fingerprint ? incidentWorkflowId(input.fingerprint) : undefined,
  },
  morningHealthCheck: {
    summary: 'morning health check of the AI services, database, cache, storage and pods',
    startedBy: 'schedule',
    parse: parseMorningHealthCheckInput,
  },
  eveningPerformanceReview: {
    summary: "evening review of the day's AI performance, errors and costs",
    startedBy: 'schedule',
    parse: parseEveningReviewInput,
  },
  sundayMaintenanceWindow: {
    summary: 'Sunday maintenance window: cache purge, retention delete, model settings, restarts',
    startedBy: 'schedule',
    parse: parseSundayWindowInput,
  },
  maintenanceChecklist: {
    summary: 'daily, weekly, monthly or quarterly maintenance checklist',
    startedBy: 'schedules',
    parse: parseChecklistInput,
  },
  purgeCache: {
    summary: 'cache purge: SCAN and UNLINK the keys of a pattern, resumable',
    startedBy: 'operators, the quick fix clear-ai-cache, the Sunday window',
    parse: validatePurgeInput,
  },
  pruneOptimizations: {
    summary: 'retention delete of old completed optimisations, in small batches',
    startedBy: 'operators, the Sunday window',
    parse: validateRetentionInput,
  },
  restartDeployment: {
    summary: 'rolling restart of a deployment, waiting until it is ready',
    startedBy: 'operators, the quick fix restart-service',
    parse: parseRolloutInput,
  },
  rollbackDeployment: {
    summary: 'rollback of a deployment to its previous revision',
    startedBy: 'operators, the quick fix rollback-deployment',
    parse: parseRollbackInput,
  },
  monitorUntilHealthy: {
    summary: 'monitor for resolution: probe health until healthy enough times in a row',
    startedBy: 'operators, the incident',
    parse: parseMonitorInput,
  },
  databaseBackup: {
    summary: 'database backup: pg_dump streamed to S3 with a manifest',
    startedBy: 'schedule, operators',
    parse: parseDatabaseBackupInput,
  },
  modelBackup: {
    summary: 'model backup: copy the serving models that changed since the last one to the backup bucket',
    startedBy: 'schedule, operators',
    parse: parseModelBackupInput,
  },
  pruneBackups: {
    summary: 'backup retention: delete backups past their keep rules',
    startedBy: 'schedule, operators',
    parse: parseBackupRetentionInput,
  },
  pruneModelBackups: {
    summary: 'model backup retention: delete model backups past their keep rules, keeping shared objects',
    startedBy: 'schedule, operators',
    parse: parseBackupRetentionInput,
  },
  restoreDatabase: {
    summary: 'database restore from a backup, behind an approval gate',
    startedBy: 'operators',
    parse: parseRestoreDatabaseInput,
  },
  verifyBackup: {
    summary: 'restore drill: restore the latest backup into a scratch database and check it',
    startedBy: 'schedule, operators',
    parse: parseVerifyBackupInput,
  },
  disasterRecoveryDrill: {
    summary:
      'monthly DR drill: recover into a scratch namespace and a throwaway database, time each step against the RTO',
    startedBy: 'schedule, operators',
    parse: parseDrillInput,
  },
  crisisManagerWatch: {
    summary: 'crisis-manager watch: probe the AI crisis manager and start the protocol when it fails',
    startedBy: 'schedule',
    parse: parseCrisisManagerWatchInput,
  },
  recoverAiService: {
    summary: 'AI service recovery: restore models from backup and restart the service',
    startedBy: 'operators',
    parse: parseRecoverAiServiceInput,
  },
  failoverAiIngress: {
    summary: 'manual failover: point the AI ingress at the backup services, behind an approval gate',
    startedBy: 'operators',
    parse: (raw) => parseIngressSwitchInput(raw, 'failoverAiIngress'),
  },
  failbackAiIngress: {
    summary: 'failback: point the AI ingress at the primary again, behind an approval gate',
    startedBy: 'operators',
    parse: (raw) => parseIngressSwitchInput(raw, 'failbackAiIngress'),
  },
  aiFallbackWatch: {
    summary: 'fallback watch: circuit breaker that switches the AI to rule-based fallback and back',
    startedBy: 'schedule',
    parse: parseAiFallbackWatchInput,
  },
  completeOutageResponse: {
    summary: 'complete service outage: status, logs, restarts and escalation',
    startedBy: 'operators, alert receivers',
    parse: parseCompleteOutageInput,
  },
  modelRetraining: {
    summary: 'monthly model retraining with an A/B rollout decided on evidence',
    startedBy: 'schedule, the accuracy watch, operators',
    parse: parseRetrainingInput,
  },
  modelAccuracyWatch: {
    summary: 'accuracy watch: opens an incident or starts retraining when acceptance drops',
    startedBy: 'schedule',
    parse: parseAccuracyWatchInput,
  },
  reviewTheologicalAlignment: {
    summary: 'theological alignment failures: metrics, one faculty review per flagged item, escalation',
    startedBy: 'operators, the incident quick fix trigger-theological-review',
    parse: parseReviewTheologicalAlignmentInput,
  },
  resolveDatabaseConnections: {
    summary: 'database connections: pg_stat_activity against the limit, cancel long queries and restart on approval',
    startedBy: 'operators',
    parse: parseResolveDatabaseConnectionsInput,
  },
  rebuildVectorIndex: {
    summary: 'vector store: status, index statistics, rebuild with progress, verify with a test query',
    startedBy: 'operators, the incident quick fix rebuild-vector-index',
    parse: parseRebuildVectorIndexInput,
  },
  dataBreachResponse: {
    summary: 'data breach: page security, preserve evidence, isolate on approval, track the human tasks',
    startedBy: 'operators',
    parse: parseDataBreachInput,
  },
  highAiCostsRemediation: {
    summary: 'high AI API costs: budget status, throttle by the overspend, root-cause checks',
    startedBy: 'operators, the incident quick fix enable-cost-throttling',
    parse: (raw: unknown) => parseRemediationInput(raw, 'highAiCostsRemediation'),
  },
  slowAiResponsesRemediation: {
    summary:
      'slow AI responses: gateway metrics, provider status, restart of the gateway (approval at P1), verify under 3 s',
    startedBy: 'operators',
    parse: (raw: unknown) => parseRemediationInput(raw, 'slowAiResponsesRemediation'),
  },
  aiServiceFailuresRemediation: {
    summary: 'AI service failures: logs and error rates, restart, then the fallback model and a P1 incident',
    startedBy: 'operators',
    parse: (raw: unknown) => parseRemediationInput(raw, 'aiServiceFailuresRemediation'),
  },
  cacheMissesRemediation: {
    summary: 'cache misses: Redis INFO and the hit rate, rebuild below 70 %, TTL and eviction findings',
    startedBy: 'operators, the incident quick fix rebuild-cache',
    parse: (raw: unknown) => parseRemediationInput(raw, 'cacheMissesRemediation'),
  },
  budgetExceededResponse: {
    summary: 'budget exceeded: emergency throttle, spending breakdown, P1 incident',
    startedBy: 'operators, the incident quick fix emergency-throttle',
    parse: (raw: unknown) => parseRemediationInput(raw, 'budgetExceededResponse'),
  },
  highResponseTimesRemediation: {
    summary:
      'WedSync high response times: pods, usage, active queries, slowest statements; scale the AI engines on approval, purge and warm a corrupted cache, verify under 10 s',
    startedBy: 'operators',
    parse: parseHighResponseTimesInput,
  },
  aiServiceOutageRemediation: {
    summary:
      'WedSync AI service outage: pods, logs, health, provider; restart, then failover (its gate), then fallback mode; P0 page when still down',
    startedBy: 'operators',
    parse: (raw: unknown) => parseAiServiceOutageInput(raw),
  },
};

export interface RunbookListing {
  workflowType: WorkflowType;
  summary: string;
  startedBy: string;
  schedules: Pick<ScheduleDefinition, 'scheduleId' | 'cron' | 'timezone'>[];
}

export function listRunbooks(): RunbookListing[] {
  return (Object.keys(RUNBOOKS) as WorkflowType[]).map((workflowType) => ({
    workflowType,
    summary: RUNBOOKS[workflowType].summary,
    startedBy: RUNBOOKS[workflowType].startedBy,
    schedules: SCHEDULES.filter((s) => s.workflowType === workflowType).map(({ scheduleId, cron, timezone }) => ({
      scheduleId,
      cron,
      timezone,
    })),
  }));
}

export const isWorkflowType = (name: string): name is WorkflowType => Object.hasOwn(RUNBOOKS, name);

export const runbook = (workflowType: WorkflowType): Runbook => RUNBOOKS[workflowType];

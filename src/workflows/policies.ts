/**
 * Every activity proxy the workflows use, one per retry and timeout policy, each policy named and written once.
 * A workflow picks the proxy whose policy fits the call; which activity it calls stays visible at the call site.
 */
import {
  patched,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type RetryPolicy,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { backupTaskQueue } from '../contracts/backups';
import { FailureType } from '../contracts/failures';

/** Failures that retrying cannot fix: a wrong request, missing credentials, a target that is not there. */
const WRONG_REQUEST = [FailureType.InvalidInput, FailureType.NotAuthorized, FailureType.TargetNotFound];

/** A snapshot: three tries, then the failure itself goes into the report. */
const SNAPSHOT: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 3,
  nonRetryableErrorTypes: WRONG_REQUEST,
};

/** A change that is safe to repeat: a few tries over a couple of minutes, then the workflow decides. */
const CHANGE: RetryPolicy = {
  initialInterval: '1 second',
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...WRONG_REQUEST, FailureType.RolloutFailed],
};

/**
 * Long work that heartbeats a checkpoint: each retry resumes from it, so retrying costs little. 20 attempts ride out
 * a dependency down for about a quarter of an hour (2 s doubling to a minute, then a minute each); a standalone run
 * that still fails pages (common/paged-on-failure.ts).
 */
const RESUMABLE: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 20,
  nonRetryableErrorTypes: [FailureType.InvalidInput],
};

/**
 * An emergency step: retried until it succeeds or the crisis is resolved, since giving up is never the right
 * call; only a request that can never succeed stops.
 */
export const UNTIL_DONE: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...WRONG_REQUEST, FailureType.BadUpstreamResponse],
};

/** Read-only probes and reads (HTTP, PostgreSQL, Redis, S3, Kubernetes, Temporal): retrying them is always safe. */
export const probes = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: SNAPSHOT });

/**
 * Kubernetes changes and the Sunday window's configured steps. Each is safe to retry: restart stamps a fixed
 * time, undo writes nothing when already done, apply is server-side apply, warm-up is a GET.
 */
export const changes = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: CHANGE });

/** `kubectl rollout status --timeout`: the activity may run that long, heartbeating as it polls. */
export function waitForRollout(deployment: string, timeoutSeconds: number, namespace?: string) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: CHANGE,
  }).waitForRollout({ deployment, timeoutSeconds, ...(namespace !== undefined && { namespace }) });
}

/** Telling people (Slack, PagerDuty): wherever a workflow pages or messages someone. */
export const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FailureType.InvalidInput],
  },
});

/** The crisis protocol's calls, retried by the server until done. */
export const urgent = proxyActivities<Activities>({ startToCloseTimeout: '15 seconds', retry: UNTIL_DONE });

/**
 * The crisis protocol's first try of each short call, as a local activity: one attempt, bounded at 2 seconds
 * (waiting for a slot included); a failure worth retrying goes on as the `urgent` activity. Why: crisis/protocol.ts.
 */
export const firstTry = proxyLocalActivities<Activities>({
  scheduleToCloseTimeout: '2 seconds',
  retry: { maximumAttempts: 1 },
});

const heartbeating = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  heartbeatTimeout: '30 seconds',
  retry: RESUMABLE,
});

/**
 * The cache purge. A million keys take seconds; the ceiling is for a cache far larger than today's, not for a
 * stuck call, which the heartbeat timeout catches.
 */
export const { purgeCacheKeys } = proxyActivities<Activities>(heartbeating('1 hour'));

/** The retention delete: the Sunday window is two hours, and stopBy normally ends the activity well before this. */
export const { deleteCompletedOptimizations } = proxyActivities<Activities>(heartbeating('2 hours'));

/** ANALYZE after the retention delete: a statement of seconds, heartbeating while it runs. */
export const { analyzeTables } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: RESUMABLE,
});

/** The audit write as a regular activity, for workflows whose first commands must not wait for it (AuditTrail). */
export const { recordAudit: recordAuditByActivity } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [FailureType.InvalidInput],
  },
});

/**
 * The crisis protocol's batches of couple notifications: minutes of sends at most, heartbeating as they go, so a
 * worker that died is noticed in seconds and the batch retried on another; retried until done, like every crisis call.
 */
export const { notifyCouples } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: UNTIL_DONE,
});

/**
 * The audit write as a local activity: a short INSERT adds no round trip through the server. It has no attempt
 * limit: a record must not be dropped because the database was briefly away.
 */
export const { recordAudit } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [FailureType.InvalidInput],
  },
});

/**
 * The roster is read by a regular activity, the audit trail writes by a local one. Two local activities in flight
 * together resolve, when first run, in the order they finish, each in an activation of its own; in replay the SDK
 * resolves them together, in the order they were scheduled. Code that goes on after one of them and issues a
 * command (an audit batch, a gate's next step) then issues its commands in another order on replay: a
 * nondeterminism error, a stuck workflow. A regular activity's result arrives in a later workflow task, after every
 * local activity of the task it was scheduled in, first run and replay alike. Workflows whose history read the
 * roster locally replay it that way.
 */
export const ROSTER_READ_BY_ACTIVITY_PATCH = 'roster-read-by-activity';

const rosterReadLocally = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
const rosterRead = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/** The roster and business hours, read at the start of every workflow with a gate and at each decision. */
export function loadDirectory(): ReturnType<Activities['loadDirectory']> {
  return patched(ROSTER_READ_BY_ACTIVITY_PATCH) ? rosterRead.loadDirectory() : rosterReadLocally.loadDirectory();
}

/**
 * The dump and the restore run on the backup worker's task queue (backupTaskQueue), not the workflow's. Histories
 * written before that scheduled them on the workflow's own queue, and replay them there.
 */
export const BACKUP_WORKER_PATCH = 'dump-and-restore-on-backup-worker';

function onBackupWorker(options: ActivityOptions) {
  const own = proxyActivities<Activities>(options);
  return () =>
    patched(BACKUP_WORKER_PATCH)
      ? proxyActivities<Activities>({ ...options, taskQueue: backupTaskQueue(workflowInfo().taskQueue) })
      : own;
}

/**
 * A database dump. A retry starts a new dump (a snapshot cannot be resumed), so the limit is low; the heartbeat
 * timeout notices a dead worker within a minute rather than at the ceiling, which is for a large database. The
 * dump heartbeats every second while bytes flow; a minute covers a part's upload on a slow link.
 */
const dumps = onBackupWorker({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 4,
    // A pg_dump that died (a dropped connection, a restart) is worth another attempt; what cannot work (no pg_dump
    // of the server's major) is raised as non-retryable by the activity itself.
    nonRetryableErrorTypes: WRONG_REQUEST,
  },
});
export const dumpDatabase: Activities['dumpDatabase'] = (req) => dumps().dumpDatabase(req);

/** Restoring into a scratch database: each attempt drops and recreates it first, so retrying is safe. */
const scratchRestores = onBackupWorker({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '10 seconds',
    maximumInterval: '5 minutes',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...WRONG_REQUEST, FailureType.BackupVerificationFailed],
  },
});
export const restoreIntoScratch: Activities['restoreBackup'] = (req) => scratchRestores().restoreBackup(req);

/**
 * Restoring over the production database: one attempt. It runs in one transaction, so a failure leaves the
 * database as it was, but whether to try again is a person's call after seeing why, not a retry policy's.
 */
const productionRestores = onBackupWorker({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 1 },
});
export const restoreOverProduction: Activities['restoreBackup'] = (req) => productionRestores().restoreBackup(req);

/** Reading the restored database back, and dropping a scratch database: reads and an idempotent drop. */
export const backupChecks = proxyActivities<Activities>({ startToCloseTimeout: '30 minutes', retry: CHANGE });

/**
 * Model backup retention: reading every model backup's manifest, and deleting a backup's objects that no other
 * backup shares (idempotent: what is gone is not an error).
 */
export const modelRetention = proxyActivities<Activities>({ startToCloseTimeout: '30 minutes', retry: CHANGE });

/** The model backup: server-side copies, resumed from the last key heartbeated. */
export const { backupModels } = proxyActivities<Activities>(heartbeating('2 hours'));

/**
 * The AI service recovery's model copies (the pre-recovery snapshot and the restore): server-side copies resumed
 * from the last key heartbeated, ending in the same mirror however often they run.
 */
export const { snapshotServingModels, restoreModels } = proxyActivities<Activities>(heartbeating('2 hours'));

/**
 * The Sunday window's model deployment: the served models kept aside, the promoted model's artifacts put in their
 * place, and the kept ones put back when it does not validate. Server-side copies resumed from the last key
 * heartbeated, ending in the same place however often they run.
 */
export const { keepServingModels, deployModelArtifacts, restoreServingModels } = proxyActivities<Activities>(
  heartbeating('2 hours'),
);

/**
 * The fallback watch's probe of the AI service: one attempt, since each probe is one observation and the circuit
 * breaker counts the failures itself; a retried probe would hide the failures it exists to count.
 */
export const { probeServiceHealth: probeOnce } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { maximumAttempts: 1 },
});

/** `kubectl wait --for=condition=complete job/<name>`: a training or evaluation Job, heartbeating as it polls. */
export function waitForJob(name: string, timeoutSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: CHANGE,
  }).waitForJob({ name, timeoutSeconds });
}

/**
 * The training-data extract: a retry starts the COPY over (a snapshot cannot be resumed), so few attempts; the
 * heartbeat (every second, rows flowing or not) notices a dead worker within a minute.
 */
export const { extractTrainingData } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 4,
    nonRetryableErrorTypes: WRONG_REQUEST,
  },
});

/** Following a vector index rebuild to its end: it heartbeats the store's progress as it polls; a retry looks again. */
export function awaitIndexRebuild(rebuildId: string, timeoutSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: CHANGE,
  }).awaitIndexRebuild({ rebuildId, timeoutSeconds });
}

/**
 * The data breach's evidence copy: pod by pod, heartbeating the files written, so a retry resumes after the last
 * pod copied. It must finish before the pods are scaled away, so it keeps trying like any resumable work.
 */
export const { preserveEvidence } = proxyActivities<Activities>(heartbeating('1 hour'));

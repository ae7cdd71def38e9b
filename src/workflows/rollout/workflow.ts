/**
 * Restart and roll back a Deployment, each followed by `kubectl rollout status`:
 *
 *   kubectl rollout restart deployment/ai-optimization-engine     (seed 002, AI Service Outage)
 *   kubectl rollout status deployment/ai-optimization-engine
 *   kubectl rollout undo deployment/scrolluniversity-backend      (seed 000, Emergency Procedures: rollback)
 *
 * Operators start them from the UI or CLI, and incidentResponse starts them as the quick fixes
 * "restart-service" and "rollback-deployment".
 *
 *   temporal workflow start --type restartDeployment --task-queue aiops-runbooks \
 *     --input '{"deployment":"ai-optimization-engine","timeoutSeconds":600}'
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType, invalidInput } from '../../common/failures';

export interface RolloutInput {
  /** A deployment listed in K8S_DEPLOYMENTS, in K8S_AI_NAMESPACE. */
  deployment: string;
  /** How long the new pods may take to become available (default 10 minutes). */
  timeoutSeconds?: number;
}

export interface RollbackInput extends RolloutInput {
  /** The revision to return to (default: the one before the current). */
  toRevision?: number;
}

const nonRetryableErrorTypes = [FailureType.InvalidInput, FailureType.NotAuthorized, FailureType.TargetNotFound, FailureType.RolloutFailed];

// Restart stamps a fixed time and undo writes nothing when already done, so both are safe to retry.
const { rolloutRestart, rolloutUndo } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
});

function validate(input: RolloutInput | undefined): Required<RolloutInput> {
  if (!input || typeof input.deployment !== 'string' || input.deployment === '') {
    throw invalidInput('deployment', 'is required (a deployment listed in K8S_DEPLOYMENTS)');
  }
  const timeoutSeconds = input.timeoutSeconds ?? 600;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 24 * 3600) {
    throw invalidInput('timeoutSeconds', 'must be a whole number of seconds from 1 to 86400');
  }
  return { deployment: input.deployment, timeoutSeconds };
}

function waitForRolloutWithin(timeoutSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
  }).waitForRollout;
}

export async function restartDeployment(input: RolloutInput) {
  const { deployment, timeoutSeconds } = validate(input);
  const restart = await rolloutRestart({ deployment, restartedAt: new Date().toISOString() });
  const rollout = await waitForRolloutWithin(timeoutSeconds)({ deployment, timeoutSeconds });
  return { ...restart, rollout };
}

export async function rollbackDeployment(input: RollbackInput) {
  const { deployment, timeoutSeconds } = validate(input);
  if (input.toRevision !== undefined && (!Number.isInteger(input.toRevision) || input.toRevision < 1)) {
    throw invalidInput('toRevision', 'must be a revision number (1 or more)');
  }
  const undo = await rolloutUndo({ deployment, toRevision: input.toRevision });
  const rollout = await waitForRolloutWithin(timeoutSeconds)({ deployment, timeoutSeconds });
  return { ...undo, rollout };
}

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
import { invalidInput } from '../../common/failures';
import { kube, waitForRollout } from './activities';

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

export async function restartDeployment(input: RolloutInput) {
  const { deployment, timeoutSeconds } = validate(input);
  const restart = await kube.rolloutRestart({ deployment, restartedAt: new Date().toISOString() });
  const rollout = await waitForRollout(deployment, timeoutSeconds);
  return { ...restart, rollout };
}

export async function rollbackDeployment(input: RollbackInput) {
  const { deployment, timeoutSeconds } = validate(input);
  if (input.toRevision !== undefined && (!Number.isInteger(input.toRevision) || input.toRevision < 1)) {
    throw invalidInput('toRevision', 'must be a revision number (1 or more)');
  }
  const undo = await kube.rolloutUndo({ deployment, toRevision: input.toRevision });
  const rollout = await waitForRollout(deployment, timeoutSeconds);
  return { ...undo, rollout };
}

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
import { changes, waitForRollout } from '../../policies';
import { parseRollbackInput, parseRolloutInput, type RollbackInput, type RolloutInput } from './messages';

export async function restartDeployment(input: RolloutInput) {
  const { deployment, timeoutSeconds } = parseRolloutInput(input);
  const restart = await changes.rolloutRestart({ deployment, restartedAt: new Date().toISOString() });
  const rollout = await waitForRollout(deployment, timeoutSeconds);
  return { ...restart, rollout };
}

export async function rollbackDeployment(input: RollbackInput) {
  const { deployment, timeoutSeconds, toRevision } = parseRollbackInput(input);
  const undo = await changes.rolloutUndo({ deployment, toRevision });
  const rollout = await waitForRollout(deployment, timeoutSeconds);
  return { ...undo, rollout };
}

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
import { patched } from '@temporalio/workflow';
import { pagedOnFailure } from '../../common/paged-on-failure';
import { changes, probes, waitForRollout } from '../../policies';
import { parseRollbackInput, parseRolloutInput, type RollbackInput, type RolloutInput } from './messages';

/** Who hears of a restart or a rollback that failed on its own (an operator's): the platform on-call. */
const ROLLOUT_AUDIENCE = { roles: ['platform-oncall'] };

export async function restartDeployment(input: RolloutInput) {
  return pagedOnFailure('rollout-restart', ROLLOUT_AUDIENCE, async () => {
    const { deployment, timeoutSeconds, namespace } = parseRolloutInput(input);
    const restart = await changes.rolloutRestart({
      deployment,
      restartedAt: new Date().toISOString(),
      ...(namespace !== undefined && { namespace }),
    });
    const rollout = await waitForRollout(deployment, timeoutSeconds, namespace);
    return { ...restart, rollout };
  });
}

/** Workflows started before it let each attempt of the undo work out "the revision before the current" itself. */
export const ROLLBACK_REVISION_FIXED_PATCH = 'rollback-revision-fixed';

export async function rollbackDeployment(input: RollbackInput) {
  return pagedOnFailure('rollout-undo', ROLLOUT_AUDIENCE, () => rollBack(input));
}

async function rollBack(input: RollbackInput) {
  const { deployment, timeoutSeconds, toRevision, namespace } = parseRollbackInput(input);
  const where = namespace !== undefined ? { namespace } : {};
  let target = toRevision;
  // An undo without toRevision goes to "the revision before the current one" as the cluster is when the attempt runs:
  // after an undo whose reply was lost, the retry finds the rolled-back template as a new current revision and goes
  // "back" to the bad release. The revision is fixed once, here, and every attempt gets it.
  if (target === undefined && patched(ROLLBACK_REVISION_FIXED_PATCH)) {
    const history = await probes.rolloutHistory({ deployment, ...where });
    const current = history.find((r) => r.current)?.revision;
    // Without a current revision the activity decides, and says why there is nothing to go back to.
    if (current !== undefined) target = history.filter((r) => r.revision < current).pop()?.revision;
  }
  const undo = await changes.rolloutUndo({ deployment, toRevision: target, ...where });
  const rollout = await waitForRollout(deployment, timeoutSeconds, namespace);
  return { ...undo, rollout };
}

/** The Kubernetes activity proxies the workflows that change Deployments and ConfigMaps share. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType } from '../../common/failures';

const retry = {
  initialInterval: '1 second',
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [FailureType.InvalidInput, FailureType.NotAuthorized, FailureType.TargetNotFound, FailureType.RolloutFailed],
};

// Each is safe to retry: restart stamps a fixed time, undo writes nothing when already done, apply is
// server-side apply, and the rest only read.
export const kube = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry });

/** `kubectl rollout status --timeout`: the activity may run that long, heartbeating as it polls. */
export function waitForRollout(deployment: string, timeoutSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '30 seconds',
    retry,
  }).waitForRollout({ deployment, timeoutSeconds });
}

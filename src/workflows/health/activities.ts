/** The activity proxies health workflows use: read-only probes, so retrying them is always safe. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType } from '../../common/failures';

export const probes = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    // A morning report is a snapshot: three tries, then the failure itself goes into the report.
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FailureType.InvalidInput, FailureType.NotAuthorized, FailureType.TargetNotFound],
  },
});

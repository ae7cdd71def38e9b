/** Telling people (Slack, PagerDuty): one retry policy wherever a workflow pages or messages someone. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType } from '../../common/failures';

export const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [FailureType.InvalidInput] },
});

/** How a worker process stops: the workflow worker and the backup worker alike. */
import type { WorkerOptions } from '@temporalio/worker';
import type { AppConfig } from '../config';

/**
 * After SIGTERM the worker stops polling and running activities have WORKER_SHUTDOWN_GRACE_SECONDS to finish;
 * then their cancellation signal fires (the purge, the retention delete, the rollout and Job waits and every HTTP
 * call stop on it) and they get SHUTDOWN_CANCEL_SECONDS to confirm, after which the SDK gives up on them
 * (shutdownForceTime). The rest of SHUTDOWN_MARGIN_SECONDS is for closing the clients and exiting. A pod's
 * terminationGracePeriodSeconds must cover the grace time plus the margin (a test holds k8s/ to it).
 */
export const SHUTDOWN_CANCEL_SECONDS = 5;
export const SHUTDOWN_MARGIN_SECONDS = 10;

export function shutdownOptions(config: AppConfig): Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'> {
  const grace = config.worker.shutdownGraceSeconds;
  return { shutdownGraceTime: `${grace}s`, shutdownForceTime: `${grace + SHUTDOWN_CANCEL_SECONDS}s` };
}

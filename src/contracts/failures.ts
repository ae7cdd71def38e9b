/**
 * The fixed set of failure types our activities and workflows raise. Operators filter on them in the UI,
 * so they are part of the interface: add new ones here, never inline.
 */
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';

export const FailureType = {
  InvalidInput: 'InvalidInput',
  NotAuthorized: 'NotAuthorized',
  TargetNotFound: 'TargetNotFound',
  UpstreamUnavailable: 'UpstreamUnavailable',
  BadUpstreamResponse: 'BadUpstreamResponse',
  /** A Kubernetes rollout that reported ProgressDeadlineExceeded or did not finish in the time given. */
  RolloutFailed: 'RolloutFailed',
  /** A Kubernetes Job that failed or did not finish in the time given; the failed pod's log is attached. */
  JobFailed: 'JobFailed',
  /** A deployed model that did not pass its health and accuracy checks. */
  ValidationFailed: 'ValidationFailed',
  /** A backup that cannot be made here (no pg_dump of the server's major version) or a restore target in the way. */
  BackupFailed: 'BackupFailed',
  /** A stored backup whose bytes, or whose restore, do not match its manifest. */
  BackupVerificationFailed: 'BackupVerificationFailed',
  /** A recovery that did not complete; its details say which steps ran and which were undone. */
  RecoveryFailed: 'RecoveryFailed',
  /** A disaster recovery drill whose recovery failed or missed its RTO; its details hold the drill's report. */
  DrillFailed: 'DrillFailed',
  /** A failover or failback target whose health check did not pass: traffic is not sent there. */
  TargetUnhealthy: 'TargetUnhealthy',
  /** A remediation whose fix ran but whose verification still shows the problem; people were paged. */
  RemediationFailed: 'RemediationFailed',
  /** A long activity's attempt that a later attempt of the same run has fenced off (it was timed out): it stops. */
  Superseded: 'Superseded',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** A failure that retrying cannot fix, naming the field at fault. */
export function invalidInput(field: string, problem: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.InvalidInput,
    message: `${field}: ${problem}`,
    nonRetryable: true,
    details: [{ field }],
  });
}

/** Child workflow and activity failures wrap the failure that says what went wrong: the innermost cause is the one to show. */
export function innermostCause(err: unknown): unknown {
  let e = err as { cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e;
}

/** What went wrong, for a person: the innermost failure as "Type: message" when it is an ApplicationFailure, else its message. */
export function failureText(err: unknown): string {
  const cause = innermostCause(err);
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Whether a start was refused because a run with that workflow ID is there already: for starts keyed by a business
 * key, the run that is there is the one wanted. (The workflow SDK does not re-export the class; this module may.)
 */
export const isAlreadyStarted = (err: unknown): boolean => err instanceof WorkflowExecutionAlreadyStartedError;

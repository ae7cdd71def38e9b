/**
 * What went wrong, for a person. Child workflow and activity failures wrap the failure that says it, so the
 * innermost cause is the one to show. Workflow-safe (no Node APIs).
 */
import { ApplicationFailure } from '@temporalio/workflow';

export function innermostCause(err: unknown): unknown {
  let e = err as { cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e;
}

/** The innermost failure as "Type: message" when it is an ApplicationFailure, else its message. */
export function failureText(err: unknown): string {
  const cause = innermostCause(err);
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * What went wrong, for a person: the innermost ApplicationFailure's type and message. Child workflow and
 * activity failures wrap the one that says it. Workflow-safe (no Node APIs).
 */
import { ApplicationFailure } from '@temporalio/workflow';

export function failureText(err: unknown): string {
  let cause = err as Error | undefined;
  while (cause && !(cause instanceof ApplicationFailure) && (cause as { cause?: Error }).cause) cause = (cause as { cause?: Error }).cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

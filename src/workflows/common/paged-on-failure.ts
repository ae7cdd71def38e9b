/**
 * A run nobody waits on pages when it fails. A schedule's or an operator's run has no parent to hear of its failure,
 * and a dependency down longer than its step's retries (RESUMABLE: about a quarter of an hour) must reach a person,
 * not only the Temporal UI. A child's failure goes to its parent, which decides; a refused input or a cancellation
 * is someone's own doing, and pages no one.
 */
import { ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { FailureType, failureText, innermostCause } from '../../contracts/failures';
import type { Audience } from '../../contracts/roster';
import { Pager } from '../gates/pager';

/** Runs started before it failed without paging. */
export const STANDALONE_FAILURE_PAGES_PATCH = 'standalone-failure-pages';

export async function pagedOnFailure<T>(what: string, audience: Audience, run: () => Promise<T>): Promise<T> {
  const info = workflowInfo();
  // Decided before the first await, as every patch here is (crisis/local-first.ts says why).
  const pager =
    info.parent === undefined && patched(STANDALONE_FAILURE_PAGES_PATCH)
      ? new Pager(`${what}-${info.workflowId}`)
      : undefined;
  try {
    return await run();
  } catch (err) {
    const cause = innermostCause(err);
    const refused = cause instanceof ApplicationFailure && cause.type === FailureType.InvalidInput;
    if (pager && !refused && !isCancellation(err)) {
      await pager.tell({
        audience,
        urgency: 'page',
        severity: 'critical',
        dedupKey: pager.dedupKey,
        message: `[${what}] failed: ${failureText(err)} (workflow ${info.workflowId})`,
      });
    }
    throw err;
  }
}

/** Runs an activity call and records its outcome as data, so one failed probe degrades a report instead of failing it. */
import { innermostCause } from '../../contracts/failures';
import type { Check } from '../../contracts/probes';

/** The innermost cause's message: ActivityFailure wraps the ApplicationFailure that carries the useful one. */
function rootMessage(err: unknown): string {
  const cause = innermostCause(err) as { message?: string } | undefined;
  return cause?.message ?? String(err);
}

export async function settle<T>(call: Promise<T>): Promise<Check<T>> {
  try {
    return { state: 'ok', result: await call };
  } catch (err) {
    return { state: 'failed', error: rootMessage(err) };
  }
}

/** Runs an activity call and records its outcome as data, so one failed probe degrades a report instead of failing it. */
import type { Check } from './report';

function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  // ActivityFailure wraps the ApplicationFailure that carries the useful message.
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export async function settle<T>(call: Promise<T>): Promise<Check<T>> {
  try {
    return { state: 'ok', result: await call };
  } catch (err) {
    return { state: 'failed', error: rootMessage(err) };
  }
}

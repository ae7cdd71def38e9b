import type { MockActivityEnvironment } from '@temporalio/testing';

/** MockActivityEnvironment.run with the activity's own result type. */
export function runIn<A extends unknown[], R>(
  env: MockActivityEnvironment,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

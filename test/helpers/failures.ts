import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';

/** The ApplicationFailure a call rejects with; fails the test if it succeeds or throws something else. */
export async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${err}`);
    return err;
  }
  assert.fail('the call succeeded');
}

/** For assert.rejects: the non-retryable InvalidInput whose message starts with the field at fault. */
export const invalidInputNaming =
  (field: string) =>
  (err: unknown): boolean =>
    err instanceof ApplicationFailure &&
    err.type === 'InvalidInput' &&
    err.nonRetryable === true &&
    err.message.startsWith(`${field}:`);

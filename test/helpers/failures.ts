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

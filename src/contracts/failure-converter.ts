/**
 * The failure converter of the worker (workflow bundle included) and of every client: a failure's message and stack
 * trace travel as a payload (`encodedAttributes`), which the payload codec seals like any other, so an error text
 * naming a couple or a crisis never reaches history in plaintext. Workflow-safe: loaded into the workflow sandbox.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

/**
 * A person's decision at a workflow's gate, sent from outside a workflow through the `decide` update, so the
 * gate's validator answers at once: accepted with the gate's outcome, or refused with its reason.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Decision, GateOutcome } from '../contracts/gates';
import { decideUpdate } from '../workflows/gates/messages';

export type DecisionResult = { accepted: true; outcome: GateOutcome } | { accepted: false; refusal: string };

export async function submitDecision(client: Client, workflowId: string, decision: Decision): Promise<DecisionResult> {
  try {
    const outcome = await client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [decision] });
    return { accepted: true, outcome };
  } catch (err) {
    // The validator's refusal arrives as the update's failure; anything else (no such workflow, server down) is not
    // an answer from the gate and goes to the caller as it is.
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    return { accepted: false, refusal: err.cause?.message ?? err.message };
  }
}

/**
 * Starting the wedding-day crisis protocol from outside a workflow: an operator's start, and an alert's
 * signal-with-start. Both key the run by the failure (`crisisWorkflowId`), so a second start or alert for the same
 * failure reaches the run already there instead of starting another. Used by `npm run crisis` and by alert receivers.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { takeoverToJoin } from '../contracts/crisis';
import { isoTime, oneOf, parseInput, z } from '../contracts/input';
import {
  crisisAlertSignal,
  crisisWorkflowId,
  FAILURE_PATTERN,
  parseWeddingDayCrisisInput,
  type CrisisAlert,
  type WeddingDayCrisisInput,
} from '../workflows/crisis/messages';
import { runningTakeovers } from './takeovers';

/**
 * A run that failed or was terminated may be started again for the same failure; one that completed was that
 * failure's protocol, and a late alert must not run it a second time.
 */
export const CRISIS_ID_REUSE = WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY;

export interface CrisisStartResult {
  workflowId: string;
  runId: string;
  /** "already-running": the server refused a second run for this failure; the running one carries on. */
  outcome: 'started' | 'already-running';
}

/** Starts the protocol for one failure (optionally one wedding's takeover), or finds it already running. */
export async function startCrisis(
  client: Client,
  taskQueue: string,
  rawInput: WeddingDayCrisisInput,
): Promise<CrisisStartResult> {
  // Checked here too, so a bad input is refused before anything reaches the server.
  const input = parseWeddingDayCrisisInput(rawInput);
  const workflowId = crisisWorkflowId(input);
  try {
    const handle = await client.workflow.start('weddingDayCrisis', {
      taskQueue,
      workflowId,
      args: [rawInput],
      workflowIdReusePolicy: CRISIS_ID_REUSE,
    });
    return { workflowId, runId: handle.firstExecutionRunId, outcome: 'started' };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: running.runId, outcome: 'already-running' };
  }
}

/** An alert as it arrives from outside: checked before it becomes a signal payload. */
export const crisisAlertSchema = z
  .object({
    fingerprint: z
      .string({ message: 'must be 1-100 characters of A-Z a-z 0-9 : . _ -' })
      .regex(FAILURE_PATTERN, 'must be 1-100 characters of A-Z a-z 0-9 : . _ -'),
    status: oneOf(['firing', 'resolved']).optional(),
    summary: z
      .string({ message: 'must be a string of at most 2000 characters' })
      .max(2000, 'must be a string of at most 2000 characters')
      .optional(),
    startsAt: isoTime.optional(),
  })
  .strict();

export const parseCrisisAlert = (raw: unknown): CrisisAlert => parseInput(crisisAlertSchema, raw, 'crisis alert');

export interface CrisisAlertResult {
  workflowId: string;
  /** The run that received the alert; absent when a resolved alert found no run. */
  runId?: string;
  /** "signalled": started with the alert, or joined the run already there (signal-with-start does both as one). */
  outcome: 'signalled' | 'no-run';
}

/**
 * An alert about a failure of the crisis manager: starts the protocol keyed by the alert's fingerprint, or joins the
 * running one, atomically (signal-with-start). A resolved alert only reaches a running protocol: it never starts one.
 */
export async function alertCrisis(
  client: Client,
  taskQueue: string,
  rawAlert: CrisisAlert,
  reportedBy = 'alert',
): Promise<CrisisAlertResult> {
  const alert = parseCrisisAlert(rawAlert);
  const input = parseWeddingDayCrisisInput({
    failure: alert.fingerprint,
    reportedBy,
    ...(alert.summary ? { description: alert.summary } : {}),
  });
  const workflowId = crisisWorkflowId(input);
  if (alert.status === 'resolved') {
    try {
      const handle = client.workflow.getHandle(workflowId);
      const { runId, status } = await handle.describe();
      if (status.name !== 'RUNNING') return { workflowId, outcome: 'no-run' };
      await handle.signal(crisisAlertSignal, alert);
      return { workflowId, runId, outcome: 'signalled' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { workflowId, outcome: 'no-run' };
      throw err;
    }
  }
  // A takeover already running under another key (the watch's, another alert's) covers this failure too: told of
  // it, it sweeps again, and nobody is alerted and paged a second time for one outage.
  const running = takeoverToJoin(await runningTakeovers(client, taskQueue), workflowId);
  if (running && running !== workflowId) {
    const other = client.workflow.getHandle(running);
    try {
      await other.signal(crisisAlertSignal, alert);
      return { workflowId: running, runId: (await other.describe()).runId, outcome: 'signalled' };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // it ended meanwhile: start this alert's own
    }
  }
  const handle = await client.workflow.signalWithStart('weddingDayCrisis', {
    taskQueue,
    workflowId,
    args: [{ failure: input.failure, reportedBy: input.reportedBy, description: input.description }],
    signal: crisisAlertSignal,
    signalArgs: [alert],
    workflowIdReusePolicy: CRISIS_ID_REUSE,
  });
  return { workflowId, runId: handle.signaledRunId, outcome: 'signalled' };
}

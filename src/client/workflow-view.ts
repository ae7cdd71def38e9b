/**
 * One workflow as an operator sees it: what the server knows (describe()), what the workflow says of itself (its
 * `status` query, where it has one), its open gates, and how far each running activity has come from the details
 * it last heartbeated. Read by `runbook status` and, every second, by `runbook watch`.
 */
import { QueryNotRegisteredError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import type { GateStatus } from '../contracts/gates';
import { STATUS_QUERY } from '../workflows/gates/messages';
import { readProgress, type ActivityProgress } from './progress';

export interface PendingActivityView {
  activityType: string;
  /** SCHEDULED, STARTED or CANCEL_REQUESTED. */
  state: string;
  attempt: number;
  lastHeartbeat?: string;
  progress?: ActivityProgress;
  lastFailure?: string;
}

export interface WorkflowView {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  startTime: string;
  closeTime?: string;
  /** The step the workflow reports it is at, from its status query. */
  stage?: string;
  gates: GateStatus[];
  pendingActivities: PendingActivityView[];
  /** The workflow's status query, as it answered; absent when it has none or could not answer. */
  reported?: Record<string, unknown>;
  /** A closed run's result, or why it failed. */
  result?: unknown;
  failure?: string;
}

/** A status query waits for a worker; a view without it is still worth showing. */
const QUERY_DEADLINE_MS = 10_000;

/** temporal.api.enums.v1.PendingActivityState by number, as the raw description carries it. */
const PENDING_STATES = ['UNSPECIFIED', 'SCHEDULED', 'STARTED', 'CANCEL_REQUESTED', 'PAUSED', 'PAUSE_REQUESTED'];

const STAGE_FIELDS = ['step', 'stage', 'phase', 'state'] as const;

function stageOf(reported: Record<string, unknown> | undefined): string | undefined {
  for (const field of STAGE_FIELDS) {
    const value = reported?.[field];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function gatesOf(reported: Record<string, unknown> | undefined): GateStatus[] {
  const gates = reported?.gates;
  return Array.isArray(gates) ? (gates as GateStatus[]) : [];
}

async function queryStatus(client: Client, workflowId: string): Promise<Record<string, unknown> | undefined> {
  try {
    const answer = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
      client.workflow.getHandle(workflowId).query<unknown>(STATUS_QUERY),
    );
    return typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : { value: answer };
  } catch (err) {
    if (err instanceof QueryNotRegisteredError) return undefined;
    // No worker to answer, or a closed run whose history the worker cannot load: describe() still says enough.
    return undefined;
  }
}

export async function viewWorkflow(client: Client, workflowId: string): Promise<WorkflowView> {
  const described = await client.workflow.getHandle(workflowId).describe();
  const converter = client.options.loadedDataConverter;
  const pendingActivities = await Promise.all(
    (described.raw.pendingActivities ?? []).map(async (a): Promise<PendingActivityView> => {
      const details = a.heartbeatDetails?.payloads?.length
        ? await decodeFromPayloadsAtIndex<unknown>(converter, 0, a.heartbeatDetails.payloads)
        : undefined;
      return {
        activityType: a.activityType?.name ?? '?',
        state: PENDING_STATES[a.state ?? 0] ?? 'UNKNOWN',
        attempt: a.attempt ?? 1,
        lastHeartbeat: optionalTsToDate(a.lastHeartbeatTime)?.toISOString(),
        progress: readProgress(details),
        lastFailure: a.lastFailure?.message ?? undefined,
      };
    }),
  );
  const reported = await queryStatus(client, workflowId);
  const outcome = described.status.name === 'RUNNING' ? {} : await closedOutcome(client, workflowId);
  return {
    workflowId,
    runId: described.runId,
    workflowType: described.type,
    status: described.status.name,
    startTime: described.startTime.toISOString(),
    closeTime: described.closeTime?.toISOString(),
    stage: stageOf(reported),
    gates: gatesOf(reported),
    pendingActivities,
    reported,
    ...outcome,
  };
}

async function closedOutcome(client: Client, workflowId: string): Promise<{ result?: unknown; failure?: string }> {
  try {
    return { result: await client.workflow.getHandle(workflowId).result() };
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    return { failure: cause?.message ?? (err as Error).message };
  }
}

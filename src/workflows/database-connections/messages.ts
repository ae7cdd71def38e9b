/** resolveDatabaseConnections' input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import type { ConnectionReport } from '../../contracts/connections';
import type { GateStatus } from '../../contracts/gates';
import { dnsLabel, optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';

export const resolveDatabaseConnectionsInputSchema = optionalObject({
  /** Who asked (roster id, or the incident that started it); recorded in the audit trail. */
  requestedBy: z.string().min(1).max(100).default('operator'),
  reason: z.string().max(2000).optional(),
  /** The application restarted to reset its connections (seed 000: scrolluniversity-backend). */
  deployment: dnsLabel.default('scrolluniversity-backend'),
  /** A query running longer than this counts as long-running; absent: DATABASE_LONG_QUERY_SECONDS. */
  longQuerySeconds: wholeNumber(1, 24 * 3600).optional(),
  /** How long the backend's new pods may take to become available after the restart. */
  rolloutTimeoutSeconds: wholeNumber(10, 3600).default(600),
});
export type ResolveDatabaseConnectionsInput = z.input<typeof resolveDatabaseConnectionsInputSchema>;
export const parseResolveDatabaseConnectionsInput = (raw: unknown) =>
  parseInput(resolveDatabaseConnectionsInputSchema, raw, 'resolveDatabaseConnections');

export interface ResolveDatabaseConnectionsResult {
  before: ConnectionReport;
  /** Long-running queries cancelled, by pid; empty when none were or the cancel was refused. */
  cancelled: number[];
  restarted: boolean;
  after: ConnectionReport;
  /** ok: under the limit and no long-running query left. */
  ok: boolean;
}

export interface DatabaseConnectionsStatus {
  step: 'checking' | 'awaiting-cancel' | 'cancelling' | 'awaiting-restart' | 'restarting' | 'done' | 'escalated';
  before?: ConnectionReport;
  after?: ConnectionReport;
  gates: GateStatus[];
}

export const databaseConnectionsStatusQuery = defineQuery<DatabaseConnectionsStatus>('status');

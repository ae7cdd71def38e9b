/** How a database error reaches a workflow: one conversion for every PostgreSQL activity. */
import type { Pool } from 'pg';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failures';

export interface PostgresDeps {
  pool: Pool;
  /** The connection limits of seed 000 Issue 6; absent: 80 % of max_connections, queries over 5 minutes. */
  scrollUniversity?: { connectionAlertRatio: number; longQuerySeconds: number };
}

/**
 * A database error as the retryable UpstreamUnavailable failure, naming what was being read when given; our own
 * failures and a cancellation pass through unchanged.
 */
export const postgresFailure = (err: unknown, what?: string) =>
  err instanceof Error && !(err instanceof ApplicationFailure) && !Context.current().cancellationSignal.aborted
    ? ApplicationFailure.create({
        type: FailureType.UpstreamUnavailable,
        message: `PostgreSQL${what ? `, ${what}` : ''}: ${err.message}`,
      })
    : err;

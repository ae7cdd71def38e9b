/**
 * `runbook audit [--workflow-id ID] [--actor ID] [--since ISO] [--limit N]` (also `npm run audit -- ...`): reads
 * the audit log, newest last.
 */
import type { Command } from 'commander';
import { Pool } from 'pg';
import { loadConfigOrExit } from '../config';
import { EXIT, UsageError, type Output } from './runbook/output';

export interface AuditQuery {
  workflowId?: string;
  actor?: string;
  since?: string;
  limit: number;
}

interface AuditOptions {
  workflowId?: string;
  actor?: string;
  since?: string;
  limit: string;
}

/** The options as a query, refused with a usage error naming the option at fault. */
export function auditQuery(options: AuditOptions): AuditQuery {
  const query: AuditQuery = { workflowId: options.workflowId, actor: options.actor, limit: 100 };
  if (options.since !== undefined) {
    if (Number.isNaN(Date.parse(options.since))) throw new UsageError(`--since: "${options.since}" is not a timestamp`);
    query.since = new Date(options.since).toISOString();
  }
  const n = Number(options.limit);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new UsageError('--limit: must be a whole number from 1 to 10000');
  query.limit = n;
  return query;
}

export async function auditCommand(out: Output, query: AuditQuery): Promise<number> {
  const config = loadConfigOrExit();
  const pool = new Pool({ connectionString: config.postgres.url, max: 1 });
  try {
    const { rows } = await pool.query(
      `SELECT * FROM (
         SELECT occurred_at, workflow_id, workflow_type, step, actor, action, outcome, reason, duration_ms, details, id
           FROM audit_log
          WHERE ($1::text IS NULL OR workflow_id = $1)
            AND ($2::text IS NULL OR actor = $2)
            AND ($3::timestamptz IS NULL OR occurred_at >= $3)
          ORDER BY occurred_at DESC, id DESC
          LIMIT $4) newest
       ORDER BY occurred_at, id`,
      [query.workflowId ?? null, query.actor ?? null, query.since ?? null, query.limit],
    );
    for (const r of rows) {
      if (out.json) {
        out.data({ ...r, id: undefined });
      } else {
        out.line(
          `${new Date(r.occurred_at).toISOString()}  ${r.workflow_id}  ${r.step}  ${r.actor}  ${r.action} → ${r.outcome}${r.reason ? `  "${r.reason}"` : ''}`,
        );
      }
    }
    if (!out.json) process.stderr.write(`${rows.length} record(s)\n`);
    return EXIT.ok;
  } finally {
    await pool.end();
  }
}

export function addAuditCommand(
  program: Command,
  out: () => Output,
  done: (code: number) => void,
  read: (out: Output, query: AuditQuery) => Promise<number> = auditCommand,
): void {
  program
    .command('audit')
    .description('audit-log records (decisions, refusals, escalations, actions), newest last')
    .option('--workflow-id <id>', "only this workflow's records")
    .option('--actor <id>', 'only decisions and actions by this person (roster id) or "workflow"')
    .option('--since <iso>', 'only records at or after this time, e.g. 2026-11-23T09:00:00Z')
    .option('--limit <n>', 'at most N records (at most 10000)', '100')
    .addHelpText('after', '\nExample:\n  runbook audit --workflow-id incident-gw-5xx')
    .action(async (options: AuditOptions) => done(await read(out(), auditQuery(options))));
}

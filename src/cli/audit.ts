/**
 * `npm run audit -- [--workflow-id ID] [--actor ID] [--since ISO] [--limit N] [--json]`: reads the audit log.
 */
import { Pool } from 'pg';
import { loadConfigOrExit } from '../config';
import { parseOptions, runCli, UsageError, wantsHelp } from './args';

const HELP = `Usage: npm run audit -- [options]

Prints audit-log records, newest last.
  --workflow-id ID   only this workflow's records
  --actor ID         only decisions and actions by this person (roster id) or "workflow"
  --since ISO        only records at or after this time, e.g. 2026-11-23T09:00:00Z
  --limit N          at most N records (default 100, at most 10000)
  --json             one JSON object per line instead of a table
`;

interface Args {
  workflowId?: string;
  actor?: string;
  since?: string;
  limit: number;
  json: boolean;
}

export function parseArgs(argv: string[]): Args | 'help' {
  if (wantsHelp(argv)) return 'help';
  const { values, positionals } = parseOptions(argv, {
    'workflow-id': { type: 'string' },
    actor: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]} (see --help)`);
  const args: Args = { workflowId: values['workflow-id'], actor: values.actor, limit: 100, json: values.json ?? false };
  if (values.since !== undefined) {
    if (Number.isNaN(Date.parse(values.since))) throw new UsageError(`--since: "${values.since}" is not a timestamp`);
    args.since = new Date(values.since).toISOString();
  }
  if (values.limit !== undefined) {
    const n = Number(values.limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw new UsageError('--limit: must be a whole number from 1 to 10000');
    args.limit = n;
  }
  return args;
}

async function main(): Promise<void> {
  let args: Args | 'help';
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (args === 'help') {
    process.stdout.write(HELP);
    return;
  }
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
      [args.workflowId ?? null, args.actor ?? null, args.since ?? null, args.limit],
    );
    for (const r of rows) {
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ ...r, id: undefined })}\n`);
      } else {
        process.stdout.write(
          `${new Date(r.occurred_at).toISOString()}  ${r.workflow_id}  ${r.step}  ${r.actor}  ${r.action} → ${r.outcome}${r.reason ? `  "${r.reason}"` : ''}\n`,
        );
      }
    }
    if (!args.json) process.stderr.write(`${rows.length} record(s)\n`);
  } finally {
    await pool.end();
  }
}

if (require.main === module) runCli('audit', main);

/**
 * `runbook list` and `runbook start`: the runbooks there are, and starting one after its own input schema has
 * accepted the input, so a mistake is refused here, naming the field, and nothing reaches the server.
 */
import { readFileSync } from 'node:fs';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { workflowUiLink } from '../../client/connect';
import { isWorkflowType, listRunbooks, runbook } from '../../client/runbooks';
import { withClient } from './context';
import { EXIT, UsageError, type Output } from './output';

export function listCommand(out: Output): number {
  const runbooks = listRunbooks();
  if (out.json) {
    for (const r of runbooks) out.data(r);
    return EXIT.ok;
  }
  const width = Math.max(...runbooks.map((r) => r.workflowType.length));
  for (const r of runbooks) {
    const schedules = r.schedules.map((s) => `${s.scheduleId} "${s.cron}" ${s.timezone}`).join('; ');
    out.line(`${out.paint.bold(r.workflowType.padEnd(width))}  ${r.summary}`);
    out.line(`${' '.repeat(width)}  ${out.paint.dim(`started by ${r.startedBy}${schedules ? `; ${schedules}` : ''}`)}`);
  }
  return EXIT.ok;
}

/** --input is inline JSON when it starts like JSON, else the path of a file holding it. */
export function readInput(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  let text = trimmed;
  if (!/^[{["]/.test(trimmed)) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new UsageError(`--input: cannot read ${value}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input: not valid JSON: ${(err as Error).message}`);
  }
}

export interface StartOptions {
  input?: string;
  workflowId?: string;
}

export async function startCommand(out: Output, type: string, options: StartOptions): Promise<number> {
  if (!isWorkflowType(type)) {
    throw new UsageError(`unknown runbook "${type}"; \`runbook list\` shows them all`);
  }
  const book = runbook(type);
  const raw = readInput(options.input);
  let parsed: unknown;
  try {
    parsed = book.parse(raw);
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'InvalidInput') {
      throw new UsageError(`--input refused by ${type}: ${err.message}`);
    }
    throw err;
  }
  const workflowId =
    options.workflowId ??
    (book.workflowId as ((input: unknown) => string | undefined) | undefined)?.(parsed) ??
    `${type}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  return withClient(async (client, config) => {
    try {
      // The input as given: the workflow parses it again and applies its own defaults.
      const handle = await client.workflow.start(type, {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: raw === undefined ? [] : [raw],
        workflowIdReusePolicy: book.workflowIdReusePolicy,
      });
      const link = workflowUiLink(config.temporal, workflowId, handle.firstExecutionRunId);
      if (out.json) {
        out.data({ workflowId, runId: handle.firstExecutionRunId, workflowType: type, link, outcome: 'started' });
      } else {
        out.line(`${out.paint.ok('started')} ${type}  ${workflowId}`);
        if (link) out.line(link);
      }
      return EXIT.ok;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const link = workflowUiLink(config.temporal, workflowId);
      if (out.json) out.data({ workflowId, workflowType: type, link, outcome: 'already-running' });
      else out.error(`${workflowId} is already running${link ? `: ${link}` : ''}`);
      return EXIT.failed;
    }
  });
}

export function addRunbookCommands(program: Command, out: () => Output, done: (code: number) => void): void {
  program
    .command('list')
    .description('every runbook: its workflow type, what it does, who starts it and its schedules')
    .action(() => done(listCommand(out())));
  program
    .command('start')
    .description('start a runbook once its own input schema has accepted the input')
    .argument('<runbook>', 'workflow type, as `runbook list` shows it')
    .option('-i, --input <json|file>', 'the input: inline JSON, or the path of a JSON file')
    .option('--workflow-id <id>', "the run's workflow ID (default: the runbook's business key, or type and time)")
    .addHelpText(
      'after',
      `\nExample:\n  runbook start purgeCache --input '{"pattern":"ai:*"}'\n  runbook start incidentResponse --input incident.json`,
    )
    .action(async (type: string, options: StartOptions) => done(await startCommand(out(), type, options)));
}

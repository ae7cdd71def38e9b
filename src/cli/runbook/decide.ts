/**
 * `runbook approve|reject <id> --gate G --reason R`: a decision at an open gate, through the gate's `decide`
 * update; the gate's validator answers at once, and a refusal is printed as it said it and exits 1.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { submitDecision } from '../../client/decisions';
import type { Decision } from '../../contracts/gates';
import { withClient } from './context';
import { EXIT, UsageError, type Output } from './output';

export interface DecideOptions {
  gate: string;
  reason: string;
  by?: string;
  link?: string;
  choice?: string;
}

export async function decideCommand(
  out: Output,
  decision: Decision['decision'],
  workflowId: string,
  options: DecideOptions,
): Promise<number> {
  const by = options.by ?? process.env.AIOPS_OPERATOR;
  if (!by) throw new UsageError('--by: your roster id is needed (or set AIOPS_OPERATOR)');
  if (options.reason.trim() === '') throw new UsageError('--reason: must not be empty');
  const sent: Decision = { gate: options.gate, decision, by, reason: options.reason };
  if (options.link !== undefined) sent.link = options.link;
  if (options.choice !== undefined) sent.choice = options.choice;
  return withClient(async (client) => {
    let result;
    try {
      result = await submitDecision(client, workflowId, sent);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UsageError(`no workflow with ID "${workflowId}"`);
      throw err;
    }
    if (out.json) {
      out.data({ workflowId, ...result });
    } else if (result.accepted) {
      const o = result.outcome;
      out.line(`${out.paint.ok('accepted')}: gate ${o.gate} ${o.decision} by ${o.by} at ${o.decidedAt}`);
    } else {
      out.error(`refused: ${result.refusal}`);
    }
    return result.accepted ? EXIT.ok : EXIT.failed;
  });
}

export function addDecisionCommands(program: Command, out: () => Output, done: (code: number) => void): void {
  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(decision)
      .description(`${decision} at a workflow's open gate (the gate's decide update; a refusal exits 1)`)
      .argument('<workflow-id>')
      .requiredOption('--gate <name>', 'the open gate, as `runbook status` shows it')
      .requiredOption('--reason <text>', 'why, for the audit log')
      .option('--by <roster-id>', 'who decides (default: AIOPS_OPERATOR)')
      .option('--link <url>', 'for gates that need one: a post-mortem or ticket link')
      .option('--choice <name>', 'for gates that offer choices: the one chosen')
      .addHelpText(
        'after',
        `\nExample:\n  runbook ${decision} incident-gw-5xx --gate acknowledge --reason "looking at it" --by oncall`,
      )
      .action(async (id: string, options: DecideOptions) => done(await decideCommand(out(), decision, id, options)));
  }
}

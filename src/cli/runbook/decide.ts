/**
 * `runbook approve|reject <id> --gate G --reason R`: a decision at an open gate, through the gate's `decide`
 * update; the gate's validator answers at once, and a refusal is printed as it said it and exits 1.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { submitDecision } from '../../client/decisions';
import { operatorFromEnv, signDecision, type DecisionFields } from '../../client/sign-decision';
import { DEFAULT_DECISION_LIFETIME_MS, MAX_DECISION_LIFETIME_MS } from '../../contracts/decision-signature';
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
  const by = options.by ?? process.env.AIOPS_OPERATOR_ID ?? process.env.AIOPS_OPERATOR;
  if (!by) throw new UsageError('--by: your roster id is needed (or set AIOPS_OPERATOR_ID)');
  if (options.reason.trim() === '') throw new UsageError('--reason: must not be empty');
  // Without a key the decision still goes, unsigned, so the answer is the gate's own refusal and its reason.
  let operator: ReturnType<typeof operatorFromEnv> | undefined;
  try {
    operator = operatorFromEnv(process.env, by);
  } catch (err) {
    out.error(`not signed (${err instanceof Error ? err.message : String(err)}): the gate will refuse it`);
  }
  const fields: DecisionFields = { gate: options.gate, decision, by, reason: options.reason };
  if (options.link !== undefined) fields.link = options.link;
  if (options.choice !== undefined) fields.choice = options.choice;
  return withClient(async (client) => {
    // Signed for this workflow only, valid for minutes, once: the gate checks it against the roster's public key.
    const sent = operator ? signDecision(operator.key, workflowId, fields) : fields;
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
      .option('--by <roster-id>', 'who decides, signing with their key (default: AIOPS_OPERATOR_ID)')
      .option('--link <url>', 'for gates that need one: a post-mortem or ticket link')
      .option('--choice <name>', 'for gates that offer choices: the one chosen')
      .addHelpText(
        'after',
        `\nExample:\n  runbook ${decision} incident-gw-5xx --gate acknowledge --reason "looking at it" --by oncall`,
      )
      .action(async (id: string, options: DecideOptions) => done(await decideCommand(out(), decision, id, options)));
  }
}

/** Shell-quotes one argument for the printed command. */
const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface SignOptions {
  workflowId: string;
  gate: string;
  decision: string;
  reason: string;
  link?: string;
  choice?: string;
  minutes?: string;
}

/**
 * `runbook sign-decision`: a decision signed with the caller's key, printed for pasting into the Temporal UI's
 * update (`decide`) or signal (`decision`) form, with the `temporal` command that sends the same. Talks to no server.
 */
export function signDecisionCommand(out: Output, options: SignOptions): number {
  if (options.decision !== 'approve' && options.decision !== 'reject') {
    throw new UsageError('--decision must be approve or reject');
  }
  const minutes = options.minutes === undefined ? DEFAULT_DECISION_LIFETIME_MS / 60_000 : Number(options.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes * 60_000 > MAX_DECISION_LIFETIME_MS) {
    throw new UsageError(`--minutes must be more than 0 and at most ${MAX_DECISION_LIFETIME_MS / 60_000}`);
  }
  const operator = operatorFromEnv(process.env);
  const fields: DecisionFields = {
    gate: options.gate,
    decision: options.decision,
    by: operator.id,
    reason: options.reason,
    ...(options.link !== undefined && { link: options.link }),
    ...(options.choice !== undefined && { choice: options.choice }),
  };
  const signed = signDecision(operator.key, options.workflowId, fields, { lifetimeMs: minutes * 60_000 });
  const json = JSON.stringify(signed);
  if (out.json) out.data(signed);
  else {
    out.line(json);
    out.line('');
    out.line(`# valid until ${signed.expiresAt}; the same from a shell:`);
    out.line(
      `temporal workflow update execute --workflow-id ${quoted(options.workflowId)} --name decide --input ${quoted(json)}`,
    );
  }
  return EXIT.ok;
}

export function addSignDecisionCommand(program: Command, out: () => Output, done: (code: number) => void): void {
  program
    .command('sign-decision')
    .description('print a decision signed with your key, to paste into the Temporal UI (talks to no server)')
    .requiredOption('--workflow-id <id>', 'the workflow waiting at the gate (a signature is good for it only)')
    .requiredOption('--gate <name>', 'the open gate, as `runbook status` shows it')
    .requiredOption('--decision <approve|reject>', 'approve or reject')
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--link <url>', 'for gates that need one: a post-mortem or ticket link')
    .option('--choice <name>', 'for gates that offer choices: the one chosen')
    .option('--minutes <n>', `how long it stays valid (default ${DEFAULT_DECISION_LIFETIME_MS / 60_000})`)
    .addHelpText(
      'after',
      '\nYour identity: AIOPS_OPERATOR_ID (your roster id) and AIOPS_OPERATOR_KEY_FILE (your Ed25519 private key, PEM).\n' +
        'Example:\n  runbook sign-decision --workflow-id incident-gw-5xx --gate acknowledge --decision approve --reason "mine"',
    )
    .action((options: SignOptions) => done(signDecisionCommand(out(), options)));
}

/**
 * `npm run sign-decision -- --workflow-id ID --gate G --decision approve|reject --reason R [--link URL]
 * [--choice C] [--minutes N]`: prints a decision signed with the caller's key (AIOPS_OPERATOR_ID,
 * AIOPS_OPERATOR_KEY_FILE), for pasting into the Temporal UI's update (`decide`) or signal (`decision`) form, and
 * the `temporal` command that sends the same. Talks to no server. Exit codes: 0 printed, 1 no usable key, 2 bad
 * arguments.
 */
import { parseOptions, runCli, UsageError, wantsHelp } from './args';
import { operatorFromEnv, signDecision, type DecisionFields } from '../client/sign-decision';
import { DEFAULT_DECISION_LIFETIME_MS, MAX_DECISION_LIFETIME_MS } from '../contracts/decision-signature';

const HELP = `Usage: npm run sign-decision -- --workflow-id ID --gate G --decision approve|reject --reason R [options]

Prints a decision for the gate G of workflow ID, signed with your key, as one line of JSON: paste it into the
Temporal UI (the workflow's "Send an Update" with name decide, or "Send a Signal" with name decision), or run the
temporal command printed under it. The workflow checks the signature against the roster's public key of your id,
refuses it once it expires, and takes it once.
  --workflow-id ID    the workflow waiting at the gate (a signature is good for that workflow only)
  --gate G            the gate's name, as the workflow's status query shows it
  --decision D        approve or reject
  --reason R          why; recorded in the audit log
  --link URL          for gates that need one (post-mortem, ticket)
  --choice C          for gates that offer choices: the one chosen
  --minutes N         how long the signed decision stays valid (default ${DEFAULT_DECISION_LIFETIME_MS / 60_000}, at most ${MAX_DECISION_LIFETIME_MS / 60_000})
Your identity: AIOPS_OPERATOR_ID (your roster id) and AIOPS_OPERATOR_KEY_FILE (your Ed25519 private key, PEM).
`;

const OPTIONS = {
  'workflow-id': { type: 'string' },
  gate: { type: 'string' },
  decision: { type: 'string' },
  reason: { type: 'string' },
  link: { type: 'string' },
  choice: { type: 'string' },
  minutes: { type: 'string' },
} as const;

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required (see --help)`);
  return value;
}

/** Shell-quotes one argument for the printed command. */
const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function main(argv = process.argv.slice(2), env = process.env): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(HELP);
    return 0;
  }
  let workflowId: string;
  let fields: DecisionFields;
  let lifetimeMs: number;
  try {
    const { values } = parseOptions(argv, OPTIONS, 'sign-decision');
    workflowId = required(values['workflow-id'], '--workflow-id');
    const decision = required(values.decision, '--decision');
    if (decision !== 'approve' && decision !== 'reject') throw new UsageError('--decision must be approve or reject');
    const minutes = values.minutes === undefined ? DEFAULT_DECISION_LIFETIME_MS / 60_000 : Number(values.minutes);
    if (!Number.isFinite(minutes) || minutes <= 0 || minutes * 60_000 > MAX_DECISION_LIFETIME_MS)
      throw new UsageError(`--minutes must be more than 0 and at most ${MAX_DECISION_LIFETIME_MS / 60_000}`);
    lifetimeMs = minutes * 60_000;
    fields = {
      gate: required(values.gate, '--gate'),
      decision,
      by: '',
      reason: required(values.reason, '--reason'),
      ...(values.link !== undefined && { link: values.link }),
      ...(values.choice !== undefined && { choice: values.choice }),
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sign-decision: ${err.message}\n`);
    return 2;
  }
  const operator = operatorFromEnv(env);
  const signed = JSON.stringify(signDecision(operator.key, workflowId, { ...fields, by: operator.id }, { lifetimeMs }));
  process.stdout.write(
    `${signed}\n\n# valid until ${JSON.parse(signed).expiresAt as string}; the same from a shell:\n` +
      `temporal workflow update execute --workflow-id ${quoted(workflowId)} --name decide --input ${quoted(signed)}\n`,
  );
  return 0;
}

if (require.main === module) runCli('sign-decision', main);

/**
 * `runbook crisis <command>` (also `npm run crisis -- <command>`): starts the wedding-day crisis protocol by hand, or
 * as an alert would, on the Temporal server of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE and task queue
 * TEMPORAL_TASK_QUEUE. Exit codes: 0 done, 1 the server refused or failed, 2 bad arguments (the message names the
 * option), 78 bad configuration.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { Command as CommandLine } from 'commander';
import { alertCrisis, parseCrisisAlert, startCrisis } from '../client/crisis';
import { parseWeddingDayCrisisInput, type CrisisAlert, type WeddingDayCrisisInput } from '../workflows/crisis/messages';
import { withClient } from './runbook/context';
import { EXIT, UsageError, type Output } from './runbook/output';

export type Command = { name: 'start'; input: WeddingDayCrisisInput } | { name: 'alert'; alert: CrisisAlert };

/** Field of the input → the option that sets it, so a refused input names what the operator typed. */
const FLAG_OF: Record<string, string> = {
  failure: '--failure',
  weddingId: '--wedding',
  withinMinutes: '--within-minutes',
  description: '--description',
  reportedBy: '--reported-by',
  fingerprint: '--fingerprint',
  summary: '--summary',
  status: '--status',
  startsAt: '--starts-at',
};

/** The input schemas' refusal (InvalidInput "field: problem") as a usage error naming the option. */
function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ApplicationFailure) || err.type !== 'InvalidInput') throw err;
    const field = err.message.slice(0, err.message.indexOf(':'));
    throw new UsageError(`${FLAG_OF[field] ?? field}${err.message.slice(field.length)}`);
  }
}

interface StartOptions {
  failure: string;
  wedding?: string;
  withinMinutes?: string;
  description?: string;
  reportedBy?: string;
}

interface AlertOptions {
  fingerprint: string;
  summary?: string;
  status?: string;
  startsAt?: string;
}

function startInput(o: StartOptions): WeddingDayCrisisInput {
  if (o.withinMinutes !== undefined && !/^\d+$/.test(o.withinMinutes)) {
    throw new UsageError(`--within-minutes: "${o.withinMinutes}" is not a whole number of minutes`);
  }
  const input: WeddingDayCrisisInput = {
    failure: o.failure,
    ...(o.wedding !== undefined ? { weddingId: o.wedding } : {}),
    ...(o.withinMinutes !== undefined ? { withinMinutes: Number(o.withinMinutes) } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.reportedBy !== undefined ? { reportedBy: o.reportedBy } : {}),
  };
  checked(() => parseWeddingDayCrisisInput(input));
  return input;
}

function alertOf(o: AlertOptions): CrisisAlert {
  const alert = {
    fingerprint: o.fingerprint,
    ...(o.summary !== undefined ? { summary: o.summary } : {}),
    ...(o.status !== undefined ? { status: o.status } : {}),
    ...(o.startsAt !== undefined ? { startsAt: o.startsAt } : {}),
  };
  return checked(() => parseCrisisAlert(alert));
}

/** The crisis commands under `parent`; each hands what it parsed to `run`. */
export function addCrisisCommands(parent: CommandLine, run: (command: Command) => Promise<void>): void {
  parent
    .command('start')
    .description(
      'start weddingDayCrisis with workflow ID crisis-takeover-F (crisis-takeover-F-wedding-W with --wedding); ' +
        'a run already going for F is reported, not started twice',
    )
    .requiredOption(
      '--failure <f>',
      'names the failure: an alert fingerprint or the detection time, e.g. 2026-11-28T14:05:00Z ' +
        '(1-100 characters of A-Z a-z 0-9 : . _ -)',
    )
    .option('--wedding <w>', "take over only this wedding's active crises")
    .option('--within-minutes <n>', "crises the AI took on in the last N minutes (1-1440, default 60: the seed's hour)")
    .option('--description <text>', 'what happened, for the people on the protocol')
    .option('--reported-by <id>', 'your roster id, or the system that found the failure')
    .action((o: StartOptions) => run({ name: 'start', input: startInput(o) }));
  parent
    .command('alert')
    .description(
      'what an alert receiver does: signal-with-start of the "alert" signal on crisis-takeover-F; a resolved ' +
        'alert only reaches a running protocol and never starts one',
    )
    .requiredOption('--fingerprint <f>', "the alert's fingerprint (1-100 characters of A-Z a-z 0-9 : . _ -)")
    .option('--summary <text>', "the alert's summary (at most 2000 characters); it becomes the protocol's description")
    .option('--status <s>', 'firing (default) or resolved')
    .option('--starts-at <iso>', 'when the alert started firing, e.g. 2026-11-28T14:05:00Z')
    .action((o: AlertOptions) => run({ name: 'alert', alert: alertOf(o) }));
}

async function run(command: Command, client: Client, taskQueue: string, out: Output): Promise<void> {
  if (command.name === 'start') {
    const r = await startCrisis(client, taskQueue, command.input);
    if (out.json) return out.data(r);
    out.line(
      r.outcome === 'started'
        ? `${r.workflowId}  started (run ${r.runId})`
        : `${r.workflowId}  already running (run ${r.runId}): not started again`,
    );
    return;
  }
  const r = await alertCrisis(client, taskQueue, command.alert, 'alert-cli');
  if (out.json) return out.data(r);
  out.line(
    r.outcome === 'signalled'
      ? `${r.workflowId}  alert delivered (run ${r.runId})`
      : `${r.workflowId}  no running protocol: a resolved alert starts none`,
  );
}

export function addCrisisCommand(program: CommandLine, out: () => Output, done: (code: number) => void): void {
  const crisis = program
    .command('crisis')
    .description(
      'start the wedding-day crisis protocol (weddingDayCrisis) by hand or as an alert would; one run per failure: ' +
        'crisis-takeover-<failure>',
    );
  addCrisisCommands(crisis, (command) =>
    withClient(async (client, config) => {
      await run(command, client, config.temporal.taskQueue, out());
      done(EXIT.ok);
    }),
  );
}

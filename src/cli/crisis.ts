/**
 * `npm run crisis -- <command>`: starts the wedding-day crisis protocol by hand, or as an alert would, on the Temporal
 * server of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE and task queue TEMPORAL_TASK_QUEUE. Exit codes: 0 done, 1 the
 * server refused or failed, 2 bad arguments (the message names the option), 78 bad configuration.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { temporalCommandMain } from './temporal-command';
import { parseOptions, runCli, UsageError, wantsHelp } from './args';
import { alertCrisis, parseCrisisAlert, startCrisis } from '../client/crisis';
import { parseWeddingDayCrisisInput, type CrisisAlert, type WeddingDayCrisisInput } from '../workflows/crisis/messages';

const HELP: Record<string, string> = {
  main: `Usage: npm run crisis -- <command> [options]

Starts the wedding-day crisis protocol (weddingDayCrisis) when the AI crisis manager has failed, on the Temporal
server of TEMPORAL_ADDRESS. One run per failure: its workflow ID is crisis-takeover-<failure>, or
crisis-takeover-<failure>-wedding-<wedding> for one wedding's takeover, so a second start for the same failure
reaches the run already there.
  start --failure F [--wedding W] [--within-minutes N] [--description TEXT] [--reported-by ID]
                                     starts the protocol for failure F (or says it is already running)
  alert --fingerprint F [--summary TEXT] [--status firing|resolved] [--starts-at ISO]
                                     an alert's signal-with-start: starts the protocol for F or joins the running one

\`npm run crisis -- <command> --help\` says more about each.
`,
  start: `Usage: npm run crisis -- start --failure F [--wedding W] [--within-minutes N] [--description TEXT] [--reported-by ID]

Starts weddingDayCrisis with workflow ID crisis-takeover-F (crisis-takeover-F-wedding-W with --wedding). If that
run is already going, the server refuses a second one and this says so (exit 0). A run that completed for F is
not run again; one that failed or was terminated may be.
  --failure F           names the failure: an alert fingerprint or the detection time, e.g. 2026-11-28T14:05:00Z
                        (1-100 characters of A-Z a-z 0-9 : . _ -)
  --wedding W           take over only this wedding's active crises
  --within-minutes N    crises the AI took on in the last N minutes (1-1440, default 60: the seed's hour)
  --description TEXT    what happened, for the people on the protocol
  --reported-by ID      your roster id, or the system that found the failure
`,
  alert: `Usage: npm run crisis -- alert --fingerprint F [--summary TEXT] [--status firing|resolved] [--starts-at ISO]

What an alert receiver does for an alert about the crisis manager: signal-with-start of the "alert" signal on
crisis-takeover-F. The first alert starts the protocol; every later one with the same fingerprint joins the run
(the protocol counts them). A resolved alert only reaches a running protocol and never starts one.
  --fingerprint F   the alert's fingerprint (1-100 characters of A-Z a-z 0-9 : . _ -)
  --summary TEXT    the alert's summary (at most 2000 characters); it becomes the protocol's description
  --status S        firing (default) or resolved
  --starts-at ISO   when the alert started firing, e.g. 2026-11-28T14:05:00Z
`,
};

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

export function parseArgs(argv: string[]): Command | { help: string } {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return { help: HELP.main };
  if (!(name in HELP) || name === 'main') throw new UsageError(`unknown command "${name}" (see --help)`);
  if (wantsHelp(rest)) return { help: HELP[name] };

  if (name === 'start') {
    const { values, positionals } = parseOptions(
      rest,
      {
        failure: { type: 'string' },
        wedding: { type: 'string' },
        'within-minutes': { type: 'string' },
        description: { type: 'string' },
        'reported-by': { type: 'string' },
      },
      name,
    );
    if (positionals.length) throw new UsageError(`start: unexpected argument ${positionals[0]} (see start --help)`);
    if (values.failure === undefined) throw new UsageError('start: --failure is needed (see start --help)');
    const minutes = values['within-minutes'];
    if (minutes !== undefined && !/^\d+$/.test(minutes)) {
      throw new UsageError(`--within-minutes: "${minutes}" is not a whole number of minutes`);
    }
    const input: WeddingDayCrisisInput = {
      failure: values.failure,
      ...(values.wedding !== undefined ? { weddingId: values.wedding } : {}),
      ...(minutes !== undefined ? { withinMinutes: Number(minutes) } : {}),
      ...(values.description !== undefined ? { description: values.description } : {}),
      ...(values['reported-by'] !== undefined ? { reportedBy: values['reported-by'] } : {}),
    };
    checked(() => parseWeddingDayCrisisInput(input));
    return { name, input };
  }

  const { values, positionals } = parseOptions(
    rest,
    {
      fingerprint: { type: 'string' },
      summary: { type: 'string' },
      status: { type: 'string' },
      'starts-at': { type: 'string' },
    },
    name,
  );
  if (positionals.length) throw new UsageError(`alert: unexpected argument ${positionals[0]} (see alert --help)`);
  if (values.fingerprint === undefined) throw new UsageError('alert: --fingerprint is needed (see alert --help)');
  const alert = {
    fingerprint: values.fingerprint,
    ...(values.summary !== undefined ? { summary: values.summary } : {}),
    ...(values.status !== undefined ? { status: values.status } : {}),
    ...(values['starts-at'] !== undefined ? { startsAt: values['starts-at'] } : {}),
  };
  return { name: 'alert', alert: checked(() => parseCrisisAlert(alert)) };
}

async function run(command: Command, client: Client, taskQueue: string): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (command.name === 'start') {
    const r = await startCrisis(client, taskQueue, command.input);
    out(
      r.outcome === 'started'
        ? `${r.workflowId}  started (run ${r.runId})`
        : `${r.workflowId}  already running (run ${r.runId}): not started again`,
    );
    return;
  }
  const r = await alertCrisis(client, taskQueue, command.alert, 'alert-cli');
  out(
    r.outcome === 'signalled'
      ? `${r.workflowId}  alert delivered (run ${r.runId})`
      : `${r.workflowId}  no running protocol: a resolved alert starts none`,
  );
}

const main = () => temporalCommandMain('crisis', parseArgs, run);

if (require.main === module) runCli('crisis', main);

/**
 * `npm run schedules -- <command>`: the operator's handle on the schedules of `table.ts`, on the Temporal server
 * of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE. Exit codes: 0 done, 1 the server refused or failed, 2 bad arguments
 * (the message names the argument), 78 bad configuration.
 */
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import { temporalCommandMain } from './temporal-command';
import { parseOptions, runCli, UsageError, wantsHelp } from './args';
import { registerSchedules } from '../schedules/register';
import { findSkippedRuns, type SkippedRunsReport } from '../schedules/skipped';
import { SCHEDULES, scheduleIds } from '../schedules/table';

const OVERLAP_NAMES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'] as const;
const OVERLAPS = OVERLAP_NAMES.join('|');
const DAY_MS = 24 * 3600 * 1000;

const HELP: Record<string, string> = {
  main: `Usage: npm run schedules -- <command> [options]

Manages the schedules of src/schedules/table.ts on the Temporal server (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).
  list                                     every schedule: state, next run, cron, overlap, catch-up window
  register                                 creates or updates them all (idempotent; a paused one stays paused)
  pause <id> [--reason TEXT]               no more scheduled runs until resumed
  resume <id> [--reason TEXT]              scheduled runs again
  trigger <id> [--overlap POLICY]          one run now (default allow-all: it runs even if one is running)
  backfill <id> --from ISO --to ISO [--overlap POLICY]
                                           the runs the spec would have started in a past range
  skipped [<id>] [--since ISO] [--json]    which runs were skipped (overlap, missed catch-up window), and when

\`npm run schedules -- <command> --help\` says more about each.
`,
  list: `Usage: npm run schedules -- list [--json]

Every schedule in the table, and any other on the server, with its state (active / paused and why), next run,
cron and time zone, overlap policy and catch-up window. A table entry not on the server shows "not registered".
  --json   one JSON object per line
`,
  register: `Usage: npm run schedules -- register

Creates every schedule of the table that is missing and brings the others in line with it, on task queue
TEMPORAL_TASK_QUEUE. Idempotent: running it twice changes nothing more, and a paused schedule stays paused.
`,
  pause: `Usage: npm run schedules -- pause <id> [--reason TEXT]

Stops scheduled runs until \`resume\`. The reason is shown by \`list\` and in the Web UI. A run already going
carries on; slots that fall while paused are not run later and are not counted as skipped.
  --reason TEXT   why (default "paused from the schedules CLI")
`,
  resume: `Usage: npm run schedules -- resume <id> [--reason TEXT]

Scheduled runs start again from the next slot; slots missed while paused are not run (use \`backfill\`).
  --reason TEXT   note to leave on the schedule (default "resumed from the schedules CLI")
`,
  trigger: `Usage: npm run schedules -- trigger <id> [--overlap POLICY]

Starts one run now, outside the spec. The schedule's own policy (SKIP) is not used: an operator who asks for a
run wants one, so the default is allow-all. The run's workflow ID ends with the time to the second, so a second
trigger within the same second is refused by the server as a duplicate.
  --overlap POLICY   ${OVERLAPS} (default allow-all)
`,
  backfill: `Usage: npm run schedules -- backfill <id> --from ISO --to ISO [--overlap POLICY]

Starts the runs the spec would have started between --from and --to (both in the past), e.g. after an outage
longer than the catch-up window. Each run gets the slot's time in its workflow ID, as a scheduled run would.
  --from ISO         start of the range, inclusive, e.g. 2026-11-20T00:00:00Z
  --to ISO           end of the range, not in the future
  --overlap POLICY   ${OVERLAPS} (default buffer-all: every slot runs, one after another, never two at once)
`,
  skipped: `Usage: npm run schedules -- skipped [<id>] [--since ISO] [--json]

Which scheduled runs did not start, and why: "overlap" (the previous run was still going; policy SKIP) or
"missed catch-up" (the server was down longer than the catch-up window). Temporal raises nothing when a run is
skipped; this rebuilds it from the schedule's spec, its runs and its counters. Slots that fell while the
schedule was paused are listed as "not started", not as skips. Without <id>, every schedule in the table.
  --since ISO   start of the window (default 7 days ago)
  --json        one JSON report per schedule per line
`,
};

export { UsageError } from './args';

export type Command =
  | { name: 'list'; json: boolean }
  | { name: 'register' }
  | { name: 'pause' | 'resume'; id: string; reason?: string }
  | { name: 'trigger'; id: string; overlap: ScheduleOverlapPolicy }
  | { name: 'backfill'; id: string; from: Date; to: Date; overlap: ScheduleOverlapPolicy }
  | { name: 'skipped'; id?: string; since: Date; json: boolean };

function parseOverlap(value: string): ScheduleOverlapPolicy {
  const name = value.toLowerCase().replace(/_/g, '-');
  if (!(OVERLAP_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--overlap: "${value}" is not one of ${OVERLAPS}`);
  }
  return name.toUpperCase().replace(/-/g, '_') as ScheduleOverlapPolicy;
}

function parseTime(flag: string, value: string): Date {
  // Date.parse accepts "2026" or "11/20"; an operator backfilling a range should say exactly which instant.
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw new UsageError(`${flag}: "${value}" is not an ISO time with a zone, e.g. 2026-11-20T09:00:00Z`);
  }
  return new Date(value);
}

/** The options each command takes; `json` is a switch, the others take a value. */
const OPTIONS: Record<string, string[]> = {
  list: ['json'],
  register: [],
  pause: ['reason'],
  resume: ['reason'],
  trigger: ['overlap'],
  backfill: ['from', 'to', 'overlap'],
  skipped: ['since', 'json'],
};

/** Parses the command line; `now` is a parameter so that tests can pin it. */
export function parseArgs(argv: string[], now: Date = new Date()): Command | { help: string } {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return { help: HELP.main };
  if (!(name in HELP) || name === 'main') throw new UsageError(`unknown command "${name}" (see --help)`);
  if (wantsHelp(rest)) return { help: HELP[name] };

  const options = Object.fromEntries(
    OPTIONS[name].map((o) => [o, { type: o === 'json' ? ('boolean' as const) : ('string' as const) }]),
  );
  const { values, positionals: positional } = parseOptions(rest, options, name);
  const flags = new Map(Object.entries(values).map(([k, v]) => [`--${k}`, v as string | true]));
  const id = (required: boolean) => {
    if (positional.length > 1) throw new UsageError(`${name}: one schedule ID expected, got ${positional.join(' ')}`);
    if (required && positional.length === 0) {
      throw new UsageError(`${name}: a schedule ID is needed, one of ${scheduleIds().join(', ')}`);
    }
    return positional[0];
  };
  const str = (flag: string) => flags.get(flag) as string | undefined;

  switch (name) {
    case 'list':
      if (positional.length) throw new UsageError(`list: takes no schedule ID (got ${positional[0]})`);
      return { name, json: flags.has('--json') };
    case 'register':
      if (positional.length) throw new UsageError(`register: takes no arguments (got ${positional[0]})`);
      return { name };
    case 'pause':
    case 'resume': {
      const reason = str('--reason');
      if (reason !== undefined && reason.trim() === '') throw new UsageError('--reason: must not be empty');
      return { name, id: id(true), reason };
    }
    case 'trigger':
      return { name, id: id(true), overlap: parseOverlap(str('--overlap') ?? 'allow-all') };
    case 'backfill': {
      const scheduleId = id(true);
      const fromArg = str('--from');
      const toArg = str('--to');
      if (fromArg === undefined) throw new UsageError('backfill: --from is needed');
      if (toArg === undefined) throw new UsageError('backfill: --to is needed');
      const from = parseTime('--from', fromArg);
      const to = parseTime('--to', toArg);
      if (to <= from) throw new UsageError(`--to: ${toArg} is not after --from ${fromArg}`);
      if (to > now)
        throw new UsageError(`--to: ${toArg} is in the future; backfill is for past slots (use trigger for now)`);
      return { name, id: scheduleId, from, to, overlap: parseOverlap(str('--overlap') ?? 'buffer-all') };
    }
    case 'skipped': {
      const sinceArg = str('--since');
      const since = sinceArg === undefined ? new Date(now.getTime() - 7 * DAY_MS) : parseTime('--since', sinceArg);
      if (since > now) throw new UsageError(`--since: ${sinceArg} is in the future`);
      return { name, id: id(false), since, json: flags.has('--json') };
    }
  }
  throw new UsageError(`unknown command "${name}" (see --help)`);
}

async function serverScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) ids.push(s.scheduleId);
  return ids;
}

/** The schedule's description, or a usage error naming the schedules there are. */
async function describeKnown(client: Client, id: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  if (scheduleIds().includes(id)) {
    throw new UsageError(
      `schedule "${id}" is in the table but not registered on this server: run \`npm run schedules -- register\``,
    );
  }
  const known = [...new Set([...scheduleIds(), ...(await serverScheduleIds(client))])].sort();
  throw new UsageError(`unknown schedule "${id}"; known: ${known.join(', ')}`);
}

const iso = (d?: Date) => (d ? d.toISOString().replace('.000Z', 'Z') : '-');

function printReport(r: SkippedRunsReport): void {
  if (!r.registered) {
    process.stdout.write(`${r.scheduleId}  not registered\n`);
    return;
  }
  const total = r.skippedOverlap + r.missedCatchup;
  process.stdout.write(
    `${r.scheduleId}  ${total} skipped (overlap ${r.skippedOverlap}, missed catch-up ${r.missedCatchup})` +
      ` from ${iso(new Date(r.from))} to ${iso(new Date(r.to))}` +
      (r.lastSkippedAt ? `, last ${iso(new Date(r.lastSkippedAt))}` : '') +
      (r.notStarted.length ? `; ${r.notStarted.length} not started (paused)` : '') +
      '\n',
  );
  for (const s of r.skipped) {
    const why = s.reason === 'overlap' ? 'overlap: the previous run was still going' : 'missed the catch-up window';
    process.stdout.write(`  ${iso(new Date(s.scheduledAt))}  ${why}\n`);
  }
}

async function run(command: Command, client: Client, taskQueue: string): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  switch (command.name) {
    case 'list': {
      const onServer = await serverScheduleIds(client);
      const ids = [...scheduleIds(), ...onServer.filter((id) => !scheduleIds().includes(id)).sort()];
      for (const id of ids) {
        const def = SCHEDULES.find((s) => s.scheduleId === id);
        let d: ScheduleDescription | undefined;
        if (onServer.includes(id)) d = await client.schedule.getHandle(id).describe();
        const row = {
          scheduleId: id,
          inTable: def !== undefined,
          registered: d !== undefined,
          paused: d?.state.paused,
          note: d?.state.note,
          nextRun: d?.info.nextActionTimes[0]?.toISOString(),
          cron: def?.cron,
          timezone: d?.spec.timezone ?? def?.timezone,
          overlap: d?.policies.overlap ?? def?.overlap,
          catchupWindow: def?.catchupWindow ?? (d ? `${d.policies.catchupWindow / 1000} s` : undefined),
          workflowType: def?.workflowType ?? (d?.action.type === 'startWorkflow' ? d.action.workflowType : undefined),
        };
        if (command.json) {
          out(JSON.stringify(row));
          continue;
        }
        const state = !d ? 'not registered' : d.state.paused ? `paused (${d.state.note ?? 'no reason'})` : 'active';
        out(
          `${id}  ${state}  next ${iso(d?.info.nextActionTimes[0])}  "${row.cron ?? 'no cron'}" ${row.timezone ?? ''}` +
            `  ${row.overlap}  catch-up ${row.catchupWindow}  ${row.workflowType}${def ? '' : '  (not in the table)'}`,
        );
      }
      return;
    }
    case 'register':
      for (const r of await registerSchedules(client, SCHEDULES, taskQueue)) out(`${r.scheduleId}  ${r.outcome}`);
      return;
    case 'pause':
      await describeKnown(client, command.id);
      await client.schedule.getHandle(command.id).pause(command.reason ?? 'paused from the schedules CLI');
      out(`${command.id}  paused`);
      return;
    case 'resume':
      await describeKnown(client, command.id);
      await client.schedule.getHandle(command.id).unpause(command.reason ?? 'resumed from the schedules CLI');
      out(`${command.id}  resumed`);
      return;
    case 'trigger':
      await describeKnown(client, command.id);
      // Always explicit: the server would otherwise apply the schedule's SKIP and may drop the run silently.
      await client.schedule.getHandle(command.id).trigger(command.overlap);
      out(`${command.id}  triggered (overlap ${command.overlap})`);
      return;
    case 'backfill':
      await describeKnown(client, command.id);
      await client.schedule
        .getHandle(command.id)
        .backfill({ start: command.from, end: command.to, overlap: command.overlap });
      out(
        `${command.id}  backfill requested from ${iso(command.from)} to ${iso(command.to)} (overlap ${command.overlap})`,
      );
      return;
    case 'skipped': {
      if (command.id !== undefined) await describeKnown(client, command.id);
      for (const id of command.id !== undefined ? [command.id] : scheduleIds()) {
        const report = await findSkippedRuns(client, id, command.since);
        if (command.json) out(JSON.stringify(report));
        else printReport(report);
      }
      return;
    }
  }
}

const main = () => temporalCommandMain('schedules', parseArgs, run);

if (require.main === module) runCli('schedules', main);

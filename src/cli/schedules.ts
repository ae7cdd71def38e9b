/**
 * `runbook schedules <command>` (also `npm run schedules -- <command>`): the operator's handle on the schedules of
 * `table.ts`, on the Temporal server of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE. Exit codes: 0 done, 1 the server
 * refused or failed, 2 bad arguments (the message names the argument), 78 bad configuration.
 */
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import { Command as CommandLine } from 'commander';
import { registerSchedules } from '../schedules/register';
import { findSkippedRuns, type SkippedRunsReport } from '../schedules/skipped';
import { SCHEDULES, scheduleIds } from '../schedules/table';
import { withClient } from './runbook/context';
import { EXIT, UsageError, type Output } from './runbook/output';

const OVERLAP_NAMES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'] as const;
const OVERLAPS = OVERLAP_NAMES.join('|');
const DAY_MS = 24 * 3600 * 1000;

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

function nonEmptyReason(reason: string | undefined): string | undefined {
  if (reason !== undefined && reason.trim() === '') throw new UsageError('--reason: must not be empty');
  return reason;
}

/**
 * The schedule commands under `parent`; each hands what it parsed to `run`. `now` and `json` are functions so
 * that tests can pin the clock and the global --json is read when the command runs.
 */
export function addScheduleCommands(
  parent: CommandLine,
  run: (command: Command) => Promise<void>,
  json: () => boolean,
  now: () => Date = () => new Date(),
): void {
  const known = `one of ${scheduleIds().join(', ')}`;
  parent
    .command('list')
    .description('every schedule: state, next run, cron, overlap, catch-up window (and any other on the server)')
    .action(() => run({ name: 'list', json: json() }));
  parent
    .command('register')
    .description(
      'create or update every schedule of the table on TEMPORAL_TASK_QUEUE (idempotent; a paused one stays paused)',
    )
    .action(() => run({ name: 'register' }));
  parent
    .command('pause')
    .description('no more scheduled runs until resumed; a run already going carries on')
    .argument('<id>', `schedule ID, ${known}`)
    .option('--reason <text>', 'why, shown by list and in the Web UI (default "paused from the schedules CLI")')
    .action((id: string, o: { reason?: string }) => run({ name: 'pause', id, reason: nonEmptyReason(o.reason) }));
  parent
    .command('resume')
    .description('scheduled runs again from the next slot (missed slots are not run: use backfill)')
    .argument('<id>', `schedule ID, ${known}`)
    .option('--reason <text>', 'note to leave on the schedule (default "resumed from the schedules CLI")')
    .action((id: string, o: { reason?: string }) => run({ name: 'resume', id, reason: nonEmptyReason(o.reason) }));
  parent
    .command('trigger')
    .description(
      'one run now, outside the spec; the default overlap is allow-all, since an operator who asks for a run wants one',
    )
    .argument('<id>', `schedule ID, ${known}`)
    .option('--overlap <policy>', OVERLAPS, 'allow-all')
    .action((id: string, o: { overlap: string }) => run({ name: 'trigger', id, overlap: parseOverlap(o.overlap) }));
  parent
    .command('backfill')
    .description('start the runs the spec would have started in a past range (e.g. after a long outage)')
    .argument('<id>', `schedule ID, ${known}`)
    .requiredOption('--from <iso>', 'start of the range, inclusive, e.g. 2026-11-20T00:00:00Z')
    .requiredOption('--to <iso>', 'end of the range, not in the future')
    .option('--overlap <policy>', `${OVERLAPS} (buffer-all: every slot runs, never two at once)`, 'buffer-all')
    .action((id: string, o: { from: string; to: string; overlap: string }) => {
      const from = parseTime('--from', o.from);
      const to = parseTime('--to', o.to);
      if (to <= from) throw new UsageError(`--to: ${o.to} is not after --from ${o.from}`);
      if (to > now()) {
        throw new UsageError(`--to: ${o.to} is in the future; backfill is for past slots (use trigger for now)`);
      }
      return run({ name: 'backfill', id, from, to, overlap: parseOverlap(o.overlap) });
    });
  parent
    .command('skipped')
    .description(
      'which scheduled runs did not start, and why: overlap (previous run still going) or a missed catch-up window',
    )
    .argument('[id]', `schedule ID (default: every schedule in the table)`)
    .option('--since <iso>', 'start of the window (default 7 days ago)')
    .action((id: string | undefined, o: { since?: string }) => {
      const since = o.since === undefined ? new Date(now().getTime() - 7 * DAY_MS) : parseTime('--since', o.since);
      if (since > now()) throw new UsageError(`--since: ${o.since} is in the future`);
      return run({ name: 'skipped', id, since, json: json() });
    });
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

export function addSchedulesCommand(program: CommandLine, out: () => Output, done: (code: number) => void): void {
  const schedules = program
    .command('schedules')
    .description('list, register, pause, resume, trigger and backfill the schedules; find skipped runs');
  addScheduleCommands(
    schedules,
    (command) =>
      withClient(async (client, config) => {
        await run(command, client, config.temporal.taskQueue);
        done(EXIT.ok);
      }),
    () => out().json,
  );
}

/**
 * `runbook status` and `runbook watch`: one workflow for a person. status prints the workflow's own status query
 * (describe() for workflows without one); watch redraws stage, gate deadlines and activity progress every second
 * on a terminal, and prints a line only when something changed anywhere else, until the workflow closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { describeAudience } from '../../contracts/roster';
import { viewWorkflow, type WorkflowView } from '../../client/workflow-view';
import { withClient } from './context';
import { EXIT, humanDuration, progressBar, UsageError, whenFromNow, type Output, type Paint } from './output';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** The status query's answer as indented "key: value" lines; times get how far they are from now. */
export function renderReported(value: unknown, now: number, indent = ''): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}(none)`];
    return value.flatMap((item) => {
      if (typeof item !== 'object' || item === null) return [`${indent}- ${scalar(item, now)}`];
      const [first, ...rest] = renderReported(item, now, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  if (typeof value !== 'object' || value === null) return [`${indent}${scalar(value, now)}`];
  return Object.entries(value).flatMap(([key, v]) => {
    if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v) && v.length === 0) return [`${indent}${key}: (none)`];
      return [`${indent}${key}:`, ...renderReported(v, now, `${indent}  `)];
    }
    return [`${indent}${key}: ${scalar(v, now)}`];
  });
}

function scalar(value: unknown, now: number): string {
  if (typeof value === 'string' && ISO.test(value)) return whenFromNow(value, now);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function statusWord(status: string, paint: Paint): string {
  if (status === 'RUNNING') return paint.warn(status);
  if (status === 'COMPLETED') return paint.ok(status);
  return paint.bad(status);
}

/**
 * The short view watch draws: header, stage, open gates with their deadlines, running activities. Without `now`,
 * deadlines are bare instants (a line that does not change every second).
 */
export function renderFrame(view: WorkflowView, now: number | undefined, paint: Paint): string[] {
  const at = (iso: string) => (now === undefined ? iso : whenFromNow(iso, now));
  const end = view.closeTime ? Date.parse(view.closeTime) : (now ?? Date.now());
  const lines = [
    `${paint.bold(view.workflowType)}  ${view.workflowId}  ${statusWord(view.status, paint)}  ` +
      `${humanDuration(end - Date.parse(view.startTime))}`,
  ];
  if (view.stage) lines.push(`stage: ${view.stage}`);
  for (const gate of view.gates) {
    const deadline = gate.deadline
      ? `deadline ${at(gate.deadline)}`
      : gate.nextReminder
        ? `no deadline; reminder ${at(gate.nextReminder)}`
        : 'no deadline';
    lines.push(
      `gate ${paint.bold(gate.gate)}: waiting for ${describeAudience(gate.deciders)} ` +
        `(escalation tier ${gate.tierReached} of ${gate.tiers}), ${deadline}`,
    );
  }
  for (const a of view.pendingActivities) {
    const bar = a.progress?.fraction !== undefined ? `${progressBar(a.progress.fraction)}  ` : '';
    const counts = a.progress?.counts ? `${a.progress.counts}  ` : '';
    const attempt = a.attempt > 1 ? paint.warn(`attempt ${a.attempt}  `) : '';
    const failure = a.lastFailure ? paint.bad(`last failure: ${a.lastFailure}`) : '';
    lines.push(`activity ${a.activityType} ${a.state.toLowerCase()}  ${bar}${counts}${attempt}${failure}`.trimEnd());
  }
  return lines;
}

async function viewOrUsage(...args: Parameters<typeof viewWorkflow>): Promise<WorkflowView> {
  try {
    return await viewWorkflow(...args);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no workflow with ID "${args[1]}"`);
    throw err;
  }
}

export async function statusCommand(out: Output, workflowId: string): Promise<number> {
  return withClient(async (client) => {
    const view = await viewOrUsage(client, workflowId);
    if (out.json) {
      out.data(view);
      return EXIT.ok;
    }
    const now = Date.now();
    for (const line of renderFrame(view, now, out.paint)) out.line(line);
    if (view.reported) {
      out.line(out.paint.dim('status query:'));
      for (const line of renderReported(view.reported, now, '  ')) out.line(line);
    } else {
      out.line(out.paint.dim(`no status query answered; started ${view.startTime}, run ${view.runId}`));
    }
    if (view.failure) out.line(out.paint.bad(`failed: ${view.failure}`));
    if (view.result !== undefined) {
      out.line(out.paint.dim('result:'));
      for (const line of renderReported(view.result, now, '  ')) out.line(line);
    }
    return EXIT.ok;
  });
}

/** How many terminal rows `lines` take at `columns` wide, colour codes not counted. */
export function terminalRows(lines: string[], columns = 80): number {
  const visible = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '').length;
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(visible(line) / Math.max(1, columns))), 0);
}

export interface WatchOptions {
  interval: string;
}

/** Exit 0 when the workflow completed, 1 when it closed any other way. */
export async function watchCommand(out: Output, workflowId: string, options: WatchOptions): Promise<number> {
  const intervalMs = Number(options.interval) * 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < 100 || intervalMs > 3_600_000) {
    throw new UsageError('--interval: must be a number of seconds from 0.1 to 3600');
  }
  return withClient(async (client) => {
    let drawn = 0;
    let last = '';
    for (;;) {
      const view = await viewOrUsage(client, workflowId);
      const now = Date.now();
      if (out.json) {
        // Only what changed, so a script reading lines gets one per change (countdowns do not count as change).
        const key = JSON.stringify({ ...view, pendingActivities: view.pendingActivities.map((a) => a.progress) });
        if (key !== last) out.data({ at: new Date(now).toISOString(), ...view });
        last = key;
      } else if (out.tty) {
        const frame = renderFrame(view, now, out.paint);
        // Move up over the previous frame (a line wider than the terminal took several rows) and clear it.
        if (drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
        for (const line of frame) out.line(line);
        drawn = terminalRows(frame, process.stdout.columns);
      } else {
        // Plain output: deadlines are shown as instants so that a line repeats only when something changed.
        const frame = renderFrame(view, undefined, out.paint).slice(1).join('  |  ');
        const line = `${view.status}  ${frame}`;
        if (line !== last) out.line(`${new Date(now).toISOString()}  ${line}`);
        last = line;
      }
      if (view.status !== 'RUNNING') return view.status === 'COMPLETED' ? EXIT.ok : EXIT.failed;
      await sleep(intervalMs);
    }
  });
}

export function addStatusCommands(program: Command, out: () => Output, done: (code: number) => void): void {
  program
    .command('status')
    .description("a workflow's state for a person: its own status query, or what the server knows of it")
    .argument('<workflow-id>')
    .addHelpText('after', '\nExample:\n  runbook status incident-gw-5xx')
    .action(async (id: string) => done(await statusCommand(out(), id)));
  program
    .command('watch')
    .description('follow a workflow live (stage, gate deadlines, activity progress) until it closes')
    .argument('<workflow-id>')
    .option('--interval <seconds>', 'how often to look', '1')
    .addHelpText(
      'after',
      '\nOn a terminal the view is redrawn in place; otherwise a line is printed whenever something changed.\n' +
        'Exit code 0 when the workflow completed, 1 when it failed, was cancelled, terminated or timed out.\n\n' +
        'Example:\n  runbook watch purge-ai-cache-1',
    )
    .action(async (id: string, options: WatchOptions) => done(await watchCommand(out(), id, options)));
}

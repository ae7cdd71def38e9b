/** `runbook patches`: each patch marker and the open runs that may still need the code from before it. */
import type { Command } from 'commander';
import { dataConverter } from '../../client/data-converter';
import { openRuns, patchReport } from '../../client/patches';
import { withClient } from './context';
import { EXIT, UsageError, type Output } from './output';

export async function patchesCommand(out: Output, options: { deployedAt?: string; query?: string }): Promise<number> {
  let deployedAt: Date | undefined;
  if (options.deployedAt !== undefined) {
    deployedAt = new Date(options.deployedAt);
    if (Number.isNaN(deployedAt.getTime())) {
      throw new UsageError('--deployed-at: must be an ISO 8601 time such as 2026-11-27T09:00:00Z');
    }
  }
  const report = await withClient(async (client, config) =>
    patchReport(await openRuns(client, dataConverter(config).payloadCodecs[0], options.query), deployedAt),
  );
  if (out.json) {
    for (const p of report) out.data(p);
    return EXIT.ok;
  }
  const width = Math.max(...report.map((p) => p.id.length));
  for (const p of report) {
    const verdict = p.verdict === 'deprecate' ? out.paint.ok('deprecate') : out.paint.warn('keep     ');
    const why = p.before.length
      ? `${p.before.length} open run${p.before.length === 1 ? '' : 's'} started before ${p.cutoff} without its marker`
      : `no open run started before ${p.cutoff} lacks its marker`;
    out.line(`${verdict}  ${p.id.padEnd(width)}  landed ${p.landed}  ${why}`);
    for (const r of p.before.slice(0, 5))
      out.line(out.paint.dim(`             ${r.type} ${r.workflowId} (${r.startTime})`));
    if (p.before.length > 5) out.line(out.paint.dim(`             and ${p.before.length - 5} more (--json lists all)`));
  }
  return EXIT.ok;
}

export function addPatchesCommand(program: Command, out: () => Output, done: (code: number) => void): void {
  program
    .command('patches')
    .description('each patched() marker, and whether an open run may still need the code from before it')
    .option(
      '--deployed-at <time>',
      'when the running workers were deployed (ISO 8601): each patch counts from then, if later than the day it landed',
    )
    .option(
      '--query <filter>',
      'only the open runs this visibility query matches, e.g. WorkflowType = "incidentResponse"',
    )
    .addHelpText(
      'after',
      '\n"deprecate": no open run can need the old path; the patch may move to deprecatePatch() (README "Retiring a' +
        ' patch").\n"keep": the runs listed may have taken the old path; they must end first.\n\nExample:\n' +
        '  runbook patches --deployed-at 2026-11-27T09:00:00Z',
    )
    .action(async (options: { deployedAt?: string; query?: string }) => done(await patchesCommand(out(), options)));
}

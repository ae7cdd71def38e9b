/** `runbook patches`: each patch marker and the open runs that may still need the code from before it. */
import type { Command } from 'commander';
import { dataConverter } from '../../client/data-converter';
import { openRuns, PATCHES, patchReport, type DeployTimes } from '../../client/patches';
import { withClient } from './context';
import { EXIT, UsageError, type Output } from './output';

const TIME_EXAMPLE = '2026-11-27T09:00:00Z';

/** `--deployed-at` values: a time for every patch, or `<patch id>=<time>` for one; the last given wins. */
export function parseDeployTimes(values: readonly string[]): DeployTimes {
  const known = new Set(PATCHES.map((p) => p.id));
  const byPatch = new Map<string, Date>();
  let all: Date | undefined;
  for (const value of values) {
    const eq = value.indexOf('=');
    const [id, text] = eq < 0 ? [undefined, value] : [value.slice(0, eq), value.slice(eq + 1)];
    const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(NaN);
    if (Number.isNaN(at.getTime())) {
      throw new UsageError(
        `--deployed-at: "${value}": must be an ISO 8601 time such as ${TIME_EXAMPLE}, or <patch id>=<time>`,
      );
    }
    if (id === undefined) all = at;
    else if (!known.has(id))
      throw new UsageError(`--deployed-at: "${id}" is no patch this release knows (runbook patches lists them)`);
    else byPatch.set(id, at);
  }
  return { all, byPatch };
}

export async function patchesCommand(out: Output, options: { deployedAt?: string[]; query?: string }): Promise<number> {
  const deployedAt = parseDeployTimes(options.deployedAt ?? []);
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
      'when the workers carrying the patches were deployed (ISO 8601), or <patch id>=<time> for one patch (repeatable):' +
        ' a patch counts from then, if later than the day it landed',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--query <filter>',
      'only the open runs this visibility query matches, e.g. WorkflowType = "incidentResponse"',
    )
    .addHelpText(
      'after',
      '\n"deprecate": no open run can need the old path; the patch may move to deprecatePatch() (README "Retiring a' +
        ' patch").\n"keep": the runs listed may have taken the old path; they must end first.\n\nExample:\n' +
        `  runbook patches --deployed-at ${TIME_EXAMPLE}\n` +
        `  runbook patches --deployed-at 2026-11-20T09:00:00Z --deployed-at notices-until-told=${TIME_EXAMPLE}`,
    )
    .action(async (options: { deployedAt?: string[]; query?: string }) => done(await patchesCommand(out(), options)));
}

/** `runbook doctor`: one line per configured target, and exit 1 when any cannot be reached. */
import type { Command } from 'commander';
import { runDoctor } from '../../client/doctor';
import { loadConfigOrExit } from '../../config';
import { EXIT, UsageError, type Output } from './output';

export async function doctorCommand(out: Output, options: { timeout: string }): Promise<number> {
  const timeoutMs = Number(options.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) {
    throw new UsageError('--timeout: must be a number of seconds from 0.1 to 120');
  }
  const results = await runDoctor(loadConfigOrExit(), timeoutMs);
  if (out.json) {
    for (const r of results) out.data(r);
  } else {
    const width = Math.max(...results.map((r) => r.target.length));
    for (const r of results) {
      const mark = r.ok ? out.paint.ok('ok  ') : out.paint.bad('FAIL');
      out.line(`${mark}  ${r.target.padEnd(width)}  ${r.detail}  ${out.paint.dim(`${r.ms} ms`)}`);
    }
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

export function addDoctorCommand(program: Command, out: () => Output, done: (code: number) => void): void {
  program
    .command('doctor')
    .description(
      'check every configured target: Temporal, PostgreSQL, Redis, S3, Kubernetes, WedSync, webhooks, Prometheus, Alertmanager',
    )
    .option('--timeout <seconds>', 'deadline of each check', '5')
    .addHelpText('after', '\nExit code 1 when any check fails.\n\nExample:\n  runbook doctor --timeout 3')
    .action(async (options: { timeout: string }) => done(await doctorCommand(out(), options)));
}

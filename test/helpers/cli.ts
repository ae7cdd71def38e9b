/** Runs the Temporal CLI the way an operator would, and parses its JSON output. */
import { spawnSync } from 'node:child_process';

export function temporalCli(args: string[], address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'): string {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: run the tests with `npm test`');
  const result = spawnSync(cli, [...args, '--address', address], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`temporal ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

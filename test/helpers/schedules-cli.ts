/**
 * Runs `runbook schedules` the way an operator would (the built CLI as a child process) against a given
 * Temporal server. Asynchronous on purpose: a test's worker runs in this process and must keep polling.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'runbook.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function schedulesCli(args: string[], address: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'schedules', ...args],
      { env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

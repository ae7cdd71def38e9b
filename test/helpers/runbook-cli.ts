/**
 * Runs the `runbook` CLI the way an operator does: the npm bin (bin/runbook, on the project's Node 24 launcher) as
 * a child process, with the test's settings over the suite's. Asynchronous, so a worker in the test keeps polling.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'runbook');

export interface RunbookResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runbookCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<RunbookResult> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The lines of --json output, each parsed (a line that is not JSON fails the test here). */
export const jsonLines = (stdout: string): unknown[] =>
  stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);

/**
 * `runbook`: the operator's command line for every runbook (npm bin `runbook`; `npx runbook --help`). Arguments are
 * parsed by commander; exit codes are 0 done, 1 the operation failed or was refused, 2 a wrong command line, 78 a
 * bad configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { addAuditCommand } from './audit';
import { addCrisisCommand } from './crisis';
import { addDecisionCommands, addSignDecisionCommand } from './runbook/decide';
import { addDoctorCommand } from './runbook/doctor';
import { createOutput, EXIT, UsageError } from './runbook/output';
import { addPatchesCommand } from './runbook/patches';
import { addRunbookCommands } from './runbook/runbooks';
import { addStatusCommands } from './runbook/status';
import { addSchedulesCommand } from './schedules';

/** This release's version, from the project's package.json (dist/src/cli is three folders below it). */
function projectVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

export function createProgram(done: (code: number) => void): Command {
  const program = new Command('runbook')
    .description('Start, follow and decide the operations runbooks on the Temporal server of TEMPORAL_ADDRESS.')
    .version(projectVersion(), '-V, --version', 'print the version of aiops-runbooks')
    .option('--json', 'machine-readable output: one JSON document per line')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .exitOverride();
  const out = () => createOutput(Boolean(program.opts().json));
  addRunbookCommands(program, out, done);
  addStatusCommands(program, out, done);
  addDecisionCommands(program, out, done);
  addSignDecisionCommand(program, out, done);
  addSchedulesCommand(program, out, done);
  addAuditCommand(program, out, done);
  addCrisisCommand(program, out, done);
  addDoctorCommand(program, out, done);
  addPatchesCommand(program, out, done);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = createProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end here too, with exit code 0; commander has printed any usage error itself.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`runbook: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`runbook: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

if (require.main === module) {
  // `runbook list | head`: a reader that stops early is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}

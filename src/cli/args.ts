/**
 * Command-line options for the operator CLIs, parsed by node:util's parseArgs; what it refuses comes back as a
 * UsageError in one line naming the option, which the CLIs print before exiting with 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util's complaint in our words: which option, and what is wrong with it. */
function explain(err: Error & { code?: string }, command: string | undefined): string {
  const option = /'(-{1,2}[\w-]+)/.exec(err.message)?.[1] ?? '';
  const where = command ? `${command}: ` : '';
  const help = command ? `${command} --help` : '--help';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `${where}unknown option ${option} (see ${help})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `${option} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `${where}takes no arguments (see ${help})`;
    default:
      return `${where}${err.message}`;
  }
}

/** Parses `argv` against `options` (string options need a value; a value may not look like an option). */
export function parseOptions<O extends Options>(argv: string[], options: O, command?: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError(explain(err as Error, command));
  }
  // `--reason --json` would make "--json" the reason: refuse a value that is itself an option.
  for (const token of parsed.tokens) {
    if (
      token.kind === 'option' &&
      typeof token.value === 'string' &&
      token.inlineValue === false &&
      token.value.startsWith('--')
    ) {
      throw new UsageError(`--${token.name} needs a value`);
    }
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Whether the command line asks for help anywhere. */
export const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h');

/** Runs a CLI's main and exits with its code; an unexpected failure prints `<name>: <message>` and exits 1. */
export function runCli(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err) => {
      process.stderr.write(`${name}: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}

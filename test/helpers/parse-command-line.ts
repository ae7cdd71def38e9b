/**
 * Parses a command line with the runbook CLI's commander definitions, in-process and without running anything:
 * `add` registers the commands under a silent root whose actions capture what they were given. A refusal comes
 * back as an Error carrying commander's message or the command's own UsageError.
 */
import { Command, CommanderError } from 'commander';

export async function parseCommandLine<T>(
  add: (root: Command, capture: (value: T) => Promise<void>) => void,
  argv: string[],
): Promise<T> {
  const root = new Command('runbook')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  let captured: { value: T } | undefined;
  add(root, async (value) => {
    captured = { value };
  });
  try {
    await root.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new Error(err.message);
    throw err;
  }
  if (!captured) throw new Error(`${argv.join(' ')}: nothing was run`);
  return captured.value;
}

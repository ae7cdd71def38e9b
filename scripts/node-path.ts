/**
 * Prints the path of the node binary the project runs on (see ensureNode in lib/tools.ts), installing the pinned
 * Node 24 first where the machine's node is older. scripts/node24.sh reads it and execs the entry script on it.
 */
import { ensureNode } from './lib/tools';

try {
  process.stdout.write(`${ensureNode()}\n`);
} catch (err) {
  process.stderr.write(`cannot provide Node 24: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

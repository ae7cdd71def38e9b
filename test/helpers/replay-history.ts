/**
 * One history replayed in a process of its own (replayEachWithin in temporal.ts runs it with a deadline and kills
 * it when the replay hangs): `replay-history <bundle code file> <history JSON file> <workflow ID>`. Exits 0 when
 * the history replays, else prints the replayer's error and exits 1.
 */
import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

async function main(): Promise<void> {
  const [codePath, file, workflowId] = process.argv.slice(2);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
  await Worker.runReplayHistory({ workflowBundle: { codePath } }, history, workflowId);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * The main of a CLI whose commands talk to Temporal (`npm run schedules`, `npm run crisis`): parse, print help, or
 * connect with the configured address and namespace and run; a usage error exits 2 with its message.
 */
import { Client, Connection } from '@temporalio/client';
import { dataConverter } from '../client/data-converter';
import { loadConfigOrExit } from '../config';
import { UsageError } from './args';

export async function temporalCommandMain<C extends object>(
  name: string,
  parse: (argv: string[]) => C | { help: string },
  run: (command: C, client: Client, taskQueue: string) => Promise<void>,
): Promise<number> {
  try {
    const command = parse(process.argv.slice(2));
    if ('help' in command) {
      process.stdout.write(command.help);
      return 0;
    }
    const config = loadConfigOrExit();
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const client = new Client({
        connection,
        namespace: config.temporal.namespace,
        dataConverter: dataConverter(config),
      });
      await run(command, client, config.temporal.taskQueue);
      return 0;
    } finally {
      await connection.close();
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    return 2;
  }
}

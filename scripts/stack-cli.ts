/** `npm run stack -- up|down|status`: the local services alone, without the worker or schedules. */
import { catchInterrupts, Interrupted, signalExitCode } from './lib/interrupt';
import { log } from './lib/processes';
import { emptyStackState, stackDown, stackStatus, stackUp } from './lib/stack';

const HELP = `Usage: npm run stack -- <command>

  up       install what is missing and start Temporal, PostgreSQL, Redis, MinIO, etcd and kube-apiserver on 127.0.0.1;
           they keep running after it (interrupted or failed, it stops the ones it started)
  down     stop the services started by this project (state under .data/ is kept)
  status   show each service's state
`;

async function main(): Promise<void> {
  const command = process.argv[2];
  switch (command) {
    case 'up': {
      void catchInterrupts((signal) => process.stdout.write(`\n${signal}: stopping what this command started...\n`));
      const state = emptyStackState();
      try {
        await stackUp(state);
      } catch (err) {
        await stackDown(state.started).catch((stopErr: unknown) =>
          log(`could not stop everything: ${String(stopErr)}`),
        );
        if (!(err instanceof Interrupted)) throw err;
        process.exitCode = signalExitCode(err.signal);
        return;
      }
      process.stdout.write(`${JSON.stringify(state)}\n`);
      return;
    }
    case 'down':
      await stackDown();
      return;
    case 'status':
      for (const [name, state] of Object.entries(await stackStatus()))
        process.stdout.write(`${name.padEnd(9)} ${state}\n`);
      return;
    default:
      process.stdout.write(HELP);
      if (command && command !== '--help' && command !== '-h') process.exitCode = 2;
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * `npm test`: runs the whole suite against real components. Uses the stack of a running `npm start` when
 * there is one; otherwise brings the same stack up for the run and stops it afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './lib/paths';
import { log } from './lib/processes';
import { catchInterrupts, Interrupted, interruption, onInterrupt, signalExitCode } from './lib/interrupt';
import { endpointsSetByOperator, readLocalStackFile, withLocalStack } from './lib/local-stack';
import { bringUp, runningSession, runningStart, type Session } from './lib/session';
import { localPostgresAdminUrl } from './lib/stack';
import { loadConfig } from '../src/config';
import { bootstrapDatabase } from '../src/db/bootstrap';
import { ensurePromtool, ensureTemporalCli, ensureTimeSkippingServer } from './lib/tools';

/** Test files at once; AIOPS_TEST_CONCURRENCY overrides. */
const TEST_CONCURRENCY = Number(process.env.AIOPS_TEST_CONCURRENCY ?? 2);
/** The deadline of any test that sets none of its own: nothing in the suite waits forever. */
const TEST_TIMEOUT_MS = 10 * 60_000;

const HELP = `Usage: npm test [-- <file filter>]

Builds, then runs every test under test/ with Node's test runner against real Temporal (dev server and
time-skipping test server), PostgreSQL, Redis, MinIO and a Kubernetes API server. A filter keeps only test files whose path contains it.
`;

/** Compiled tests whose source still exists: tsc leaves the output of a deleted test file behind. */
function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    const source = join(ROOT, relative(join(ROOT, 'dist'), path)).replace(/\.js$/, '.ts');
    return name.endsWith('.test.js') && existsSync(source) ? [path] : [];
  });
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const filter = process.argv[2];
  const files = testFiles(join(ROOT, 'dist', 'test')).filter((f) => !filter || f.includes(filter));
  if (files.length === 0) throw new Error(`no test files${filter ? ` match "${filter}"` : ''}`);

  // From here an interrupt stops the stack this run brings up, and the test process.
  void catchInterrupts((signal) => process.stdout.write(`\n${signal}: stopping...\n`));
  const tools = {
    TEMPORAL_CLI_PATH: await ensureTemporalCli(),
    AIOPS_TIME_SKIPPING_SERVER: await ensureTimeSkippingServer(),
    PROMTOOL_PATH: await ensurePromtool(),
  };
  let session: Session | undefined;
  if (runningSession()) {
    log('using the stack of the running npm start');
  } else {
    const starting = runningStart();
    if (starting !== undefined)
      throw new Error(`npm start (pid ${starting}) is still starting; run the tests once it is up`);
    log('no npm start running: bringing the stack up for this run');
    session = await bringUp({ adopt: false });
  }
  try {
    // The tests read their configuration as the worker does: the operator's settings, the local stack's for the rest.
    const env: NodeJS.ProcessEnv = { ...withLocalStack(process.env, readLocalStackFile()), ...tools };
    if (!endpointsSetByOperator().postgres) {
      // Tests write crises, audit records and notifications: they get a database of their own on the same server.
      const appUrl = new URL(loadConfig(env).postgres.url);
      appUrl.pathname = '/aiops_test';
      await bootstrapDatabase({
        adminUrl: localPostgresAdminUrl(),
        appUrl: appUrl.toString(),
      });
      env.DATABASE_URL = appUrl.toString();
    }
    // Files run two at a time: each owns its data (database, Redis DB index, namespace, task queue), so they may.
    const child = spawn(
      process.execPath,
      [
        '--test',
        `--test-concurrency=${TEST_CONCURRENCY}`,
        `--test-timeout=${TEST_TIMEOUT_MS}`,
        '--test-reporter=spec',
        // A file whose tests are over exits even if a handle is left open (a stuck test's worker): the suite goes on.
        '--test-force-exit',
        ...files,
      ],
      {
        cwd: ROOT,
        env,
        stdio: 'inherit',
      },
    );
    // Ctrl-C in a terminal reaches the tests too; a SIGTERM to this process alone is passed on.
    const unsubscribe = onInterrupt((signal) => child.kill(signal));
    const code = await new Promise<number>((resolve) =>
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
    );
    unsubscribe();
    const signal = interruption();
    return signal ? signalExitCode(signal) : code;
  } finally {
    await session?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof Interrupted) process.exit(signalExitCode(err.signal));
    process.stderr.write(`tests could not run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * The setting shared by the runbook suites: a receiver for every webhook, real clients pointed at it and at the
 * suite's own database, and for each test a time-skipping server of its own with a worker running.
 */
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { testDatabase } from './databases';
import { testDeps } from './deps';
import type { HttpReceiver } from './http-receiver';
import { receiverEnv, startRunbookReceiver } from './runbook-receiver';
import { withTimeSkippingWorker } from './temporal';

export interface RunbookSuite {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  receiver: HttpReceiver;
  deps: OwnedDeps;
  /**
   * Declares a test that runs on its own time-skipping server; `faults` replaces activities with failing ones, for
   * tests of what a workflow does when a system it uses is down.
   */
  test(name: string, body: () => Promise<void>, faults?: Partial<Activities>): void;
}

/**
 * Call inside describe(). `database` is the suite's own (aiops_test_<suite>), so emptying a table there touches no
 * other file's rows; `settings` adds configuration, e.g. a Kubernetes namespace made for the suite.
 */
export function runbookSuite(
  database: string,
  settings: (
    receiver: HttpReceiver,
    databaseUrl: string,
  ) => Promise<NodeJS.ProcessEnv> | NodeJS.ProcessEnv = () => ({}),
): RunbookSuite {
  const suite = {} as RunbookSuite;
  before(async () => {
    suite.receiver = await startRunbookReceiver();
    const databaseUrl = await testDatabase(database);
    suite.deps = await testDeps({
      ...receiverEnv(suite.receiver),
      DATABASE_URL: databaseUrl,
      ...(await settings(suite.receiver, databaseUrl)),
    });
  });
  after(async () => {
    await suite.deps?.close();
    await suite.receiver?.stop();
  });
  suite.test = (name, body, faults = {}) => {
    it(name, { timeout: 120_000 }, () =>
      withTimeSkippingWorker({ ...createActivities(suite.deps), ...faults }, async (h) => {
        suite.env = h.env;
        suite.taskQueue = h.taskQueue;
        await body();
      }),
    );
  };
  return suite;
}

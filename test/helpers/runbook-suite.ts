/**
 * The setting shared by the crisis and incident suites: a receiver for every webhook, real clients pointed at
 * it and the test database, and for each test a time-skipping server of its own with a worker running.
 */
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { testDeps } from './deps';
import type { HttpReceiver } from './http-receiver';
import { receiverEnv, startRunbookReceiver } from './runbook-receiver';
import { withTimeSkippingWorker } from './temporal';

export interface RunbookSuite {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  receiver: HttpReceiver;
  deps: OwnedDeps;
  /** Declares a test that runs on its own time-skipping server. */
  test(name: string, body: () => Promise<void>): void;
}

/** Call inside describe(). `settings` adds configuration, e.g. a Kubernetes namespace made for the suite. */
export function runbookSuite(settings: (receiver: HttpReceiver) => Promise<NodeJS.ProcessEnv> = async () => ({})): RunbookSuite {
  const suite = {} as RunbookSuite;
  before(async () => {
    suite.receiver = await startRunbookReceiver();
    suite.deps = await testDeps({ ...receiverEnv(suite.receiver), ...(await settings(suite.receiver)) });
  });
  after(async () => {
    await suite.deps?.close();
    await suite.receiver?.stop();
  });
  suite.test = (name, body) =>
    it(name, { timeout: 120_000 }, () =>
      withTimeSkippingWorker(createActivities(suite.deps), async (h) => {
        suite.env = h.env;
        suite.taskQueue = h.taskQueue;
        await body();
      }),
    );
  return suite;
}

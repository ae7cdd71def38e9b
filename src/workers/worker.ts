/** Creates the worker for our task queue with every workflow and activity registered. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { AppConfig } from '../config';

/** Prebuilt by `npm run build`; without it the worker bundles the workflows itself at start-up. */
export const WORKFLOW_BUNDLE_PATH = join(__dirname, '..', '..', 'workflow-bundle.js');
export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createWorker(
  config: AppConfig,
  deps: ActivityDeps,
  options: { connection?: NativeConnection; overrides?: Partial<WorkerOptions> } = {},
): Promise<Worker> {
  const connection = options.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  const workflows = existsSync(WORKFLOW_BUNDLE_PATH)
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    ...workflows,
    ...options.overrides,
  });
}

/** Creates the worker for our task queue with every workflow and activity registered. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createAuditActivities } from '../activities/audit';
import { configuredSecrets, redactingActivityInterceptor } from '../activities/redaction';
import { dataConverter } from '../client/data-converter';
import type { AppConfig } from '../config';
import { auditSinks } from './sinks';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { HEARTBEAT_OPTIONS } from './heartbeats';

/** Prebuilt by `npm run build`; without it the worker bundles the workflows itself at start-up. */
export const WORKFLOW_BUNDLE_PATH = join(__dirname, '..', '..', 'workflow-bundle.js');
export const WORKFLOWS_PATH = require.resolve('../workflows');
/** Workflow interceptors, bundled with the workflows: the per-runbook metrics. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/metrics')];

/**
 * Worker options, chosen on `npm run bench -- crisis` (README "Benchmark" has the figures). The worker is
 * CPU-bound, so more slots or pollers buy nothing but memory: the SDK's slot counts stay, written out to be seen.
 */
export const WORKER_TUNING = {
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentLocalActivityExecutions: 100,
  maxConcurrentActivityTaskExecutions: 100,
  // A second thread for workflow activations: entering the workflow sandbox (twice per activation) is the largest
  // cost in the worker's profile, and with two threads two activations can be in it at once.
  workflowThreadPoolSize: 2,
} satisfies Partial<WorkerOptions>;

export async function createWorker(
  config: AppConfig,
  deps: ActivityDeps,
  options: { connection?: NativeConnection; overrides?: Partial<WorkerOptions> } = {},
): Promise<Worker> {
  const connection = options.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config.temporal)));
  const prebuilt = existsSync(WORKFLOW_BUNDLE_PATH);
  const workflows = prebuilt
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    sinks: auditSinks(createAuditActivities(deps).recordAudit),
    dataConverter: dataConverter(config),
    interceptors: {
      activity: [redactingActivityInterceptor(configuredSecrets(config))],
      ...(!prebuilt && { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
    ...workflows,
    ...WORKER_TUNING,
    ...HEARTBEAT_OPTIONS,
    ...options.overrides,
  });
}

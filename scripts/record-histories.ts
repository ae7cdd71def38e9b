/**
 * `npm run record-histories`: runs each workflow once on the dev server against the real stack and saves its
 * event history under test/histories/, for the replay tests that guard against non-determinism. Histories
 * already there are kept: an old history replayed against new code is what proves a patched() change safe.
 * Name workflow types to record only those.
 */
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createActivities } from '../src/activities';
import { configuredSecrets, redactingActivityInterceptor } from '../src/activities/redaction';
import { dataConverter } from '../src/client/data-converter';
import { decodeHistory } from '../src/codec/history';
import { loadConfig } from '../src/config';
import { backupWorkerActivities, createBackupWorker } from '../src/workers/backup-worker';
import { createDeps } from '../src/workers/deps';
import {
  databaseBackup,
  crisisManagerWatch,
  eveningPerformanceReview,
  incidentResponse,
  maintenanceChecklist,
  modelAccuracyWatch,
  modelBackup,
  modelRetraining,
  morningHealthCheck,
  monitorUntilHealthy,
  pruneBackups,
  pruneModelBackups,
  pruneOptimizations,
  purgeCache,
  restartDeployment,
  restoreDatabase,
  rollbackDeployment,
  sundayMaintenanceWindow,
  verifyBackup,
  weddingDayCrisis,
  recoverAiService,
  disasterRecoveryDrill,
  failoverAiIngress,
  failbackAiIngress,
  aiFallbackWatch,
  completeOutageResponse,
  rebuildVectorIndex,
  dataBreachResponse,
  reviewTheologicalAlignment,
  resolveDatabaseConnections,
  highAiCostsRemediation,
  slowAiResponsesRemediation,
  aiServiceFailuresRemediation,
  cacheMissesRemediation,
  budgetExceededResponse,
  highResponseTimesRemediation,
  aiServiceOutageRemediation,
} from '../src/workflows';
import { Client as PgClient } from 'pg';
import { dataBreachStatusQuery, reportBreachTaskUpdate } from '../src/workflows/data-breach/messages';
import { databaseConnectionsStatusQuery } from '../src/workflows/database-connections/messages';
import { theologicalReviewStatusQuery } from '../src/workflows/theological-review/messages';
import { remediationStatusQuery } from '../src/workflows/remediation/messages';
import { startDemoApi } from './lib/demo-api';
import { crisisAlertSignal, crisisStatusQuery, crisisWorkflowId } from '../src/workflows/crisis/messages';
import { decideUpdate, decisionSignal } from '../src/workflows/gates/messages';
import { decisionSigningInterceptor } from '../src/client/sign-decision';
import { alertSignal, incidentStatusQuery, incidentWorkflowId } from '../src/workflows/incident/messages';
import { ingressSwitchStatusQuery } from '../src/workflows/failover/messages';
import { aiServiceOutageStatusQuery } from '../src/workflows/remediation-wedsync/ai-service-outage/messages';
import { monthOf, retrainingStatusQuery, retrainingWorkflowId } from '../src/workflows/model-retraining/messages';
import { outboundUrlsAt } from './lib/local-receiver';
import { localClusterEnv } from './lib/kube-local';
import { demoOperatorKey } from './lib/operator-keys';
import { ROOT } from './lib/paths';
import { temporalConnectionOptions } from '../src/config/temporal-connection';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'Usage: npm run record-histories [-- <workflow type>...]\n\nNeeds the stack (npm start, or npm run stack -- up). Records every workflow type, or only those named.\n',
    );
    return;
  }
  // A local endpoint answering as the seed's healthy service and accepting every POST (alerts, Slack,
  // PagerDuty), so the recorded paths are the common ones and nothing leaves the machine.
  // The crisis manager answers as scripted for the watch's recording: it fails, recovers, fails again.
  const crisisManagerAnswers = ['failed', 'failed', 'operational', 'operational', 'failed'];
  // The AI service as the fallback watch's recording sees it: down twice (the breaker opens), then healthy.
  const primaryAnswers = [503, 503];
  const server = createServer((req, res) => {
    if (req.url === '/ai/primary/health') {
      const status = primaryAnswers.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: status === 200 ? 'healthy' : 'down' }));
      return;
    }
    if (req.url === '/crisis-manager/health') {
      const crisisManager = crisisManagerAnswers.shift() ?? 'operational';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'healthy', crisis_manager: crisisManager, response_time_ms: 250 }));
      return;
    }
    res.writeHead(req.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'healthy',
        optimization_engine: 'operational',
        response_time_ms: 250,
        accuracy_rate: 0.92,
        availability: 0.999,
        errors: [],
        error_rate: 0.001,
        queue_length: 1,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // ScrollUniversity's API as the demo API serves it, an instance of the recording's own, switched per recording.
  const scrollUniversity = await startDemoApi(
    loadConfig(process.env).postgres.url,
    0,
    join(ROOT, '.data', 'logs', 'record-histories-demo-api.log'),
    { kubeconfig: localClusterEnv().KUBECONFIG, namespace: loadConfig(process.env).scrollUniversity.namespace },
  );
  const gatewayCondition = (condition: string, sticky = false) =>
    fetch(`${scrollUniversity.url}/_local/conditions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'ai-gateway-service', condition, sticky }),
    });
  const config = loadConfig({
    ...process.env,
    ...outboundUrlsAt(base),
    SCROLLUNIVERSITY_API_URL: scrollUniversity.url,
    WEDSYNC_HEALTH_URLS: `${base}/ai/health`,
    WEDSYNC_CRISIS_MANAGER_HEALTH_URL: `${base}/crisis-manager/health`,
    WEDSYNC_METRICS_URL: `${base}/ai/metrics/daily`,
    WEDSYNC_ERRORS_URL: `${base}/ai/errors/recent`,
    WEDSYNC_BACKUP_HEALTH_URL: `${base}/ai/backup/health`,
    WEDSYNC_PRIMARY_HEALTH_URL: `${base}/ai/primary/health`,
    WEDSYNC_FALLBACK_ENABLE_URL: `${base}/ai/fallback/enable`,
    WEDSYNC_FALLBACK_DISABLE_URL: `${base}/ai/fallback/disable`,
    WEDSYNC_PROVIDER_STATUS_URL: `${base}/v1/models`,
    ...localClusterEnv(),
  });
  const deps = await createDeps(config);
  const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const converter = dataConverter(config);
  // Decisions are signed as the local stack's demo operators sign them (their keys under .data/operator-keys).
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: converter,
    interceptors: { workflow: [decisionSigningInterceptor(demoOperatorKey)] },
  });
  const taskQueue = `record-${randomUUID()}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('../src/workflows'),
    activities: createActivities(deps),
    dataConverter: converter,
    interceptors: { activity: [redactingActivityInterceptor(configuredSecrets(config))] },
  });
  const backupWorker = await createBackupWorker(
    { ...config, temporal: { ...config.temporal, taskQueue } },
    backupWorkerActivities(deps),
    { connection: nativeConnection },
  );

  const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean) => {
    for (let i = 0; i < 600; i++) {
      if (ok(await read())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the recorded workflow never reached the expected state');
  };
  const decide = (gate: string, by: string, extra: Record<string, string> = {}) => ({
    gate,
    decision: 'approve' as const,
    by,
    reason: `${gate} recorded`,
    ...extra,
  });

  /** Switches a service of the local demo API into a condition, so the recorded run has something to fix. */
  const condition = async (service: string, name: string) => {
    const res = await fetch(`${config.scrollUniversity.apiUrl}/_local/conditions`, {
      method: 'POST',
      body: JSON.stringify({ service, condition: name }),
    });
    if (!res.ok) throw new Error(`demo API refused ${service}=${name}: ${await res.text()}`);
  };
  const scrollUniversityRecordings = () => [
    {
      type: 'rebuildVectorIndex',
      // The demo API's degraded index: the recorded path rebuilds, follows the progress and verifies.
      start: async () => {
        await condition('vector-store', 'index-degraded');
        return client.workflow.start(rebuildVectorIndex, {
          taskQueue,
          workflowId: `record-vector-index-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', reason: 'recorded' }],
        });
      },
    },
    {
      type: 'reviewTheologicalAlignment',
      // Three flagged items, each approved by the faculty reviewer at its own gate.
      start: async () => {
        await condition('theological-checker', 'flagged-content');
        const handle = await client.workflow.start(reviewTheologicalAlignment, {
          taskQueue,
          workflowId: `record-theology-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', reason: 'recorded' }],
        });
        await until(
          () => handle.query(theologicalReviewStatusQuery),
          (st) => st.gates.length === 3,
        );
        for (const gate of (await handle.query(theologicalReviewStatusQuery)).gates) {
          await handle.executeUpdate(decideUpdate, { args: [decide(gate.gate, 'faculty')] });
        }
        return handle;
      },
    },
    {
      type: 'resolveDatabaseConnections',
      // A query of its own that runs until cancelled: the recorded path asks, cancels it, and verifies.
      start: async () => {
        const sleeper = new PgClient({ connectionString: config.postgres.url, application_name: 'record-sleeper' });
        await sleeper.connect();
        const running = sleeper.query('SELECT pg_sleep(120)').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1500));
        const handle = await client.workflow.start(resolveDatabaseConnections, {
          taskQueue,
          workflowId: `record-db-connections-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', longQuerySeconds: 1 }],
        });
        await until(
          () => handle.query(databaseConnectionsStatusQuery),
          (st) => st.step === 'awaiting-cancel',
        );
        await handle.executeUpdate(decideUpdate, { args: [decide('cancel-queries', 'oncall')] });
        await handle.result().catch(() => undefined);
        await running;
        await sleeper.end();
        return handle;
      },
    },
    {
      type: 'dataBreachResponse',
      // Evidence of a deployment with no pods (the local cluster runs none), isolation refused so the local cluster
      // is left as it was, then both tasks reported.
      start: async () => {
        const deployment = config.kubernetes.targets.deployments[0];
        await ensureDeployment(config.kubernetes.aiNamespace, deployment);
        const handle = await client.workflow.start(dataBreachResponse, {
          taskQueue,
          workflowId: `record-breach-${randomUUID()}`,
          args: [{ deployment, reportedBy: 'security', summary: 'recorded drill' }],
        });
        await until(
          () => handle.query(dataBreachStatusQuery),
          // The step is named before the gate opens: an update sent in between is refused as for no open gate.
          (st) => st.gates.some((g) => g.gate === 'isolate'),
        );
        await handle.executeUpdate(decideUpdate, { args: [{ ...decide('isolate', 'security'), decision: 'reject' }] });
        for (const task of ['rotate-credentials', 'notify-users'] as const) {
          await handle.executeUpdate(reportBreachTaskUpdate, { args: [{ task, by: 'security', note: 'recorded' }] });
        }
        return handle;
      },
    },
  ];

  /** The deployment a recording acts on, made in the local cluster when it is not there yet. */
  const ensureDeployment = async (namespace: string, name: string) => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(config.kubernetes.kubeconfig!);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
    await apps
      .createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
          },
        },
      })
      .catch(() => undefined);
  };

  const recordings = [
    {
      type: 'morningHealthCheck',
      start: () =>
        client.workflow.start(morningHealthCheck, {
          taskQueue,
          workflowId: `record-morning-${randomUUID()}`,
          args: [{}],
        }),
    },
    {
      type: 'monitorUntilHealthy',
      start: () =>
        client.workflow.start(monitorUntilHealthy, {
          taskQueue,
          workflowId: `record-monitor-${randomUUID()}`,
          args: [{ intervalSeconds: 1, healthyChecksRequired: 2, timeoutSeconds: 60 }],
        }),
    },
    {
      type: 'weddingDayCrisis',
      start: async () => {
        // Couples for the takeover to tell, in more than one batch's worth of calls.
        await deps.pool.query(
          `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
           SELECT 'record-' || g, 'record' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
             FROM generate_series(1, 5) g`,
        );
        const input = { failure: `record-${randomUUID().slice(0, 8)}`, description: 'recorded drill' };
        const handle = await client.workflow.start(weddingDayCrisis, {
          taskQueue,
          workflowId: crisisWorkflowId(input),
          args: [input],
        });
        await until(
          () => handle.query(crisisStatusQuery),
          (s) => s.stage === 'stage2' && s.gates.length === 5,
        );
        await handle.signal(crisisAlertSignal, { fingerprint: 'record', summary: 'crisis responses over 10 s' });
        await until(
          () => handle.query(crisisStatusQuery),
          (s) => s.alerts === 1,
        );
        for (const action of ['emergency-planners', 'vendor-network', 'executive-escalation', 'crisis-communication']) {
          await handle.executeUpdate(decideUpdate, { args: [decide(`confirm-${action}`, 'wedding-support')] });
        }
        await until(
          () => handle.query(crisisStatusQuery),
          (s) => s.stage === 'awaiting-resolution',
        );
        await handle.signal(decisionSignal, decide('resolve', 'cto'));
        return handle;
      },
    },
    {
      type: 'incidentResponse',
      start: async () => {
        const fingerprint = `record-${randomUUID().slice(0, 8)}`;
        const input = {
          severity: 'P1' as const,
          service: 'ai-gateway-service',
          summary: 'recorded drill',
          fingerprint,
          monitor: { intervalSeconds: 1, healthyChecksRequired: 2, timeoutSeconds: 60 },
        };
        const handle = await client.workflow.signalWithStart(incidentResponse, {
          taskQueue,
          workflowId: incidentWorkflowId(fingerprint),
          args: [input],
          signal: alertSignal,
          signalArgs: [{ summary: input.summary }],
        });
        const gateOpen = (gate: string) =>
          until(
            () => handle.query(incidentStatusQuery),
            (s) => s.gates.some((g) => g.gate === gate),
          );
        await gateOpen('acknowledge');
        await handle.executeUpdate(decideUpdate, { args: [decide('acknowledge', 'oncall')] });
        await gateOpen('root-cause');
        await handle.signal(decisionSignal, decide('root-cause', 'oncall'));
        await gateOpen('quick-fix');
        await handle.executeUpdate(decideUpdate, {
          args: [decide('quick-fix', 'oncall', { choice: 'clear-ai-cache' })],
        });
        for (const gate of ['document', 'follow-up']) {
          await gateOpen(gate);
          await handle.executeUpdate(decideUpdate, { args: [decide(gate, 'oncall')] });
        }
        await gateOpen('post-mortem');
        await handle.executeUpdate(decideUpdate, {
          args: [decide('post-mortem', 'oncall', { link: 'https://wiki.example.com/pm/recorded' })],
        });
        return handle;
      },
    },
    {
      type: 'crisisManagerWatch',
      // One run of the watch: two failures start the protocol, two healthy probes re-arm it, a failure, then the
      // hand-over to the next run (continueAsNew), which is terminated: the recording is the first run.
      start: async () => {
        const handle = await client.workflow.start(crisisManagerWatch, {
          taskQueue,
          workflowId: `record-crisis-watch-${randomUUID()}`,
          args: [{ intervalSeconds: 5, failuresToStart: 2, recoveriesToRearm: 2, roundsPerRun: 5 }],
        });
        await until(
          async () => (await handle.describe()).runId,
          (runId) => runId !== handle.firstExecutionRunId,
        );
        await client.workflow.getHandle(handle.workflowId).terminate('recorded: the first run is the history');
        const first = client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
        // The protocol run it started is not part of the recording, and has no worker once this ends.
        for (const event of (await first.fetchHistory()).events ?? []) {
          const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
          if (child) await client.workflow.getHandle(child).terminate('recorded by the crisis-manager watch');
        }
        return first;
      },
    },
    {
      type: 'purgeCache',
      start: () =>
        client.workflow.start(purgeCache, {
          taskQueue,
          workflowId: `record-purge-${randomUUID()}`,
          args: [{ pattern: 'ai:record:*' }],
        }),
    },
    {
      type: 'pruneOptimizations',
      start: () =>
        client.workflow.start(pruneOptimizations, {
          taskQueue,
          workflowId: `record-prune-${randomUUID()}`,
          args: [{}],
        }),
    },
    {
      type: 'eveningPerformanceReview',
      start: () =>
        client.workflow.start(eveningPerformanceReview, {
          taskQueue,
          workflowId: `record-evening-${randomUUID()}`,
          args: [{}],
        }),
    },
    {
      type: 'maintenanceChecklist',
      start: () =>
        client.workflow.start(maintenanceChecklist, {
          taskQueue,
          workflowId: `record-daily-${randomUUID()}`,
          args: [{ cadence: 'daily' }],
        }),
    },
    // Without controllers nothing rolls out on the local API server: these record the rollout timing out and the
    // undo finding no earlier revision, real paths through the API server all the same.
    {
      type: 'restartDeployment',
      start: () =>
        client.workflow.start(restartDeployment, {
          taskQueue,
          workflowId: `record-restart-${randomUUID()}`,
          args: [{ deployment: 'ai-recommendation-engine', timeoutSeconds: 1 }],
        }),
    },
    {
      type: 'rollbackDeployment',
      start: () =>
        client.workflow.start(rollbackDeployment, {
          taskQueue,
          workflowId: `record-rollback-${randomUUID()}`,
          args: [{ deployment: 'ai-recommendation-engine', timeoutSeconds: 1 }],
        }),
    },
    {
      type: 'sundayMaintenanceWindow',
      // The model step needs a cluster whose controllers roll Deployments out; the local API server has none.
      start: () =>
        client.workflow.start(sundayMaintenanceWindow, {
          taskQueue,
          workflowId: `record-sunday-${randomUUID()}`,
          args: [{ skip: ['model-update'] }],
        }),
    },
    {
      type: 'recoverAiService',
      // A model backup of what is served, then the recovery from it. Nothing rolls out without controllers, so the
      // restart times out and the undos run: the recorded path goes through every compensation.
      start: async () => {
        await client.workflow.execute(modelBackup, {
          taskQueue,
          workflowId: `record-models-for-recovery-${randomUUID()}`,
          args: [{}],
        });
        return client.workflow.start(recoverAiService, {
          taskQueue,
          workflowId: `record-ai-recovery-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', reason: 'recorded', rolloutTimeoutSeconds: 10 }],
        });
      },
    },
    {
      type: 'disasterRecoveryDrill',
      // A verified database backup and a model backup to recover from, then the drill. Nothing rolls out without
      // controllers, so the scratch engines' restart times out: the recorded run fails at that step, through the
      // recovery's undos and the drill's cleanup, and pages.
      start: async () => {
        await client.workflow.execute(databaseBackup, {
          taskQueue,
          workflowId: `record-backup-for-drill-${randomUUID()}`,
          args: [{}],
        });
        await client.workflow.execute(verifyBackup, {
          taskQueue,
          workflowId: `record-verify-for-drill-${randomUUID()}`,
          args: [{}],
        });
        await client.workflow.execute(modelBackup, {
          taskQueue,
          workflowId: `record-models-for-drill-${randomUUID()}`,
          args: [{}],
        });
        return client.workflow.start(disasterRecoveryDrill, {
          taskQueue,
          workflowId: `record-dr-drill-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', rolloutTimeoutSeconds: 10 }],
        });
      },
    },
    // Over to the backup service and back, each approved at its gate.
    ...(['failoverAiIngress', 'failbackAiIngress'] as const).map((type) => ({
      type,
      start: async () => {
        const gate = type === 'failoverAiIngress' ? 'failover' : 'failback';
        const handle = await client.workflow.start(
          type === 'failoverAiIngress' ? failoverAiIngress : failbackAiIngress,
          {
            taskQueue,
            workflowId: `record-${gate}-${randomUUID()}`,
            args: [{ requestedBy: 'oncall', reason: 'recorded' }],
          },
        );
        await until(
          () => handle.query(ingressSwitchStatusQuery),
          (s) => s.step === 'awaiting-approval',
        );
        await handle.executeUpdate(decideUpdate, { args: [decide(gate, 'ai-lead')] });
        return handle;
      },
    })),
    {
      type: 'aiFallbackWatch',
      // One run: two failed probes open the breaker (fallback on), the half-open probe closes it (fallback off), a
      // healthy round, then the hand-over to the next run, which is terminated: the recording is the first run.
      start: async () => {
        const handle = await client.workflow.start(aiFallbackWatch, {
          taskQueue,
          workflowId: `record-ai-fallback-watch-${randomUUID()}`,
          args: [{ intervalSeconds: 1, failureThreshold: 2, openSeconds: 1, roundsPerRun: 4 }],
        });
        await until(
          async () => (await handle.describe()).runId,
          (runId) => runId !== handle.firstExecutionRunId,
        );
        await client.workflow.getHandle(handle.workflowId).terminate('recorded: the first run is the history');
        return client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      },
    },
    {
      type: 'completeOutageResponse',
      // The local API server's deployments have no rollout history (no controller made ReplicaSets): nothing to roll
      // back, so the run pages, reads, and monitors once.
      start: () =>
        client.workflow.start(completeOutageResponse, {
          taskQueue,
          workflowId: `record-outage-${randomUUID()}`,
          args: [
            { reportedBy: 'oncall', monitor: { intervalSeconds: 1, healthyChecksRequired: 1, timeoutSeconds: 60 } },
          ],
        }),
    },
    // Backups of the stack's own database; the restore goes into a database of its own, dropped afterwards, and
    // retention only plans (dryRun), so recording never deletes an operator's backup.
    {
      type: 'databaseBackup',
      start: () =>
        client.workflow.start(databaseBackup, { taskQueue, workflowId: `record-backup-${randomUUID()}`, args: [{}] }),
    },
    {
      type: 'modelBackup',
      start: () =>
        client.workflow.start(modelBackup, { taskQueue, workflowId: `record-models-${randomUUID()}`, args: [{}] }),
    },
    {
      type: 'verifyBackup',
      start: () =>
        client.workflow.start(verifyBackup, { taskQueue, workflowId: `record-verify-${randomUUID()}`, args: [{}] }),
    },
    {
      type: 'restoreDatabase',
      start: async () => {
        const database = `aiops_recorded_restore_${randomUUID().slice(0, 8)}`;
        const handle = await client.workflow.start(restoreDatabase, {
          taskQueue,
          workflowId: `record-restore-${randomUUID()}`,
          args: [{ target: { database }, requestedBy: 'oncall', reason: 'recorded' }],
        });
        await handle.result().finally(() => createActivities(deps).dropScratchDatabase({ database }));
        return handle;
      },
    },
    {
      type: 'pruneBackups',
      start: () =>
        client.workflow.start(pruneBackups, {
          taskQueue,
          workflowId: `record-prune-backups-${randomUUID()}`,
          args: [{ dryRun: true }],
        }),
    },
    {
      type: 'pruneModelBackups',
      start: () =>
        client.workflow.start(pruneModelBackups, {
          taskQueue,
          workflowId: `record-prune-model-backups-${randomUUID()}`,
          args: [{ dryRun: true }],
        }),
    },
    {
      type: 'modelRetraining',
      // The local API server runs no Jobs, so the recorded run ends at the data-quality gate: the stack's demo
      // feedback names no model version, the report is over the threshold, and the AI lead refuses it.
      start: async () => {
        const handle = await client.workflow.start(modelRetraining, {
          taskQueue,
          workflowId: retrainingWorkflowId(monthOf(Date.now())),
          args: [{ requestedBy: 'ai-lead', reason: 'recorded' }],
        });
        await until(
          () => handle.query(retrainingStatusQuery),
          (s) => s.gates.some((g) => g.gate === 'training-data-quality'),
        );
        await handle.executeUpdate(decideUpdate, {
          args: [{ ...decide('training-data-quality', 'ai-lead'), decision: 'reject' }],
        });
        return handle;
      },
    },
    {
      type: 'modelAccuracyWatch',
      // Whatever the demo feedback's rate; a retraining it starts is stopped once the watch has ended.
      start: async () => {
        const handle = await client.workflow.start(modelAccuracyWatch, {
          taskQueue,
          workflowId: `record-accuracy-watch-${randomUUID()}`,
          args: [{}],
        });
        const result = await handle.result();
        if (result.retraining?.outcome === 'started')
          await client.workflow.getHandle(result.retraining.launched).terminate('recording over');
        if (result.incident?.outcome === 'opened')
          await client.workflow.getHandle(result.incident.workflowId).terminate('recording over');
        return handle;
      },
    },
    ...scrollUniversityRecordings(),
    {
      type: 'highResponseTimesRemediation',
      start: async () => {
        // The recording's metrics answer 250 ms: a 100 ms threshold makes that slow. The gate is refused, so nothing
        // in the local cluster is scaled by a recording.
        const handle = await client.workflow.start(highResponseTimesRemediation, {
          taskQueue,
          workflowId: `record-wedsync-slow-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', severity: 'P2', settleSeconds: 1, responseTimeThresholdMs: 100 }],
        });
        await until(
          () => handle.query(remediationStatusQuery),
          (st) => st.gates.some((g) => g.gate === 'scale-ai-engines'),
        );
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'scale-ai-engines', decision: 'reject', by: 'oncall', reason: 'recorded refusal' }],
        });
        return handle;
      },
    },
    {
      type: 'highAiCostsRemediation',
      start: async () => {
        await gatewayCondition('over-budget');
        return client.workflow.start(highAiCostsRemediation, {
          taskQueue,
          workflowId: `record-su-high-costs-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', reason: 'recorded drill', settleSeconds: 1 }],
        });
      },
    },
    {
      type: 'budgetExceededResponse',
      start: async () => {
        await gatewayCondition('over-budget', true);
        return client.workflow.start(budgetExceededResponse, {
          taskQueue,
          workflowId: `record-su-budget-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', severity: 'P1', settleSeconds: 1, openIncident: false }],
        });
      },
    },
    {
      type: 'cacheMissesRemediation',
      start: async () => {
        await gatewayCondition('low-hit-rate');
        return client.workflow.start(cacheMissesRemediation, {
          taskQueue,
          workflowId: `record-su-cache-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', severity: 'P3', settleSeconds: 1 }],
        });
      },
    },
    {
      type: 'slowAiResponsesRemediation',
      start: async () => {
        // The P1 gate, refused: nothing restarts in the local cluster, which has no controller to roll it out.
        await gatewayCondition('slow');
        const handle = await client.workflow.start(slowAiResponsesRemediation, {
          taskQueue,
          workflowId: `record-su-slow-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', severity: 'P1', settleSeconds: 1 }],
        });
        await until(
          () => handle.query(remediationStatusQuery),
          (st) => st.gates.some((g) => g.gate === 'restart-gateway'),
        );
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'restart-gateway', decision: 'reject', by: 'oncall', reason: 'recorded refusal' }],
        });
        return handle;
      },
    },
    {
      type: 'aiServiceFailuresRemediation',
      start: async () => {
        // Without a deployment controller the restart's rollout times out: the recording ends there.
        await gatewayCondition('failing');
        return client.workflow.start(aiServiceFailuresRemediation, {
          taskQueue,
          workflowId: `record-su-failures-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', severity: 'P2', settleSeconds: 1, rolloutTimeoutSeconds: 1 }],
        });
      },
    },
    {
      type: 'aiServiceOutageRemediation',
      start: async () => {
        // The AI service down, before and after the restart, whose rollout times out (no controller); the failover is
        // refused at its gate so the local ingress stays as it is, and the rule-based fallback goes on.
        primaryAnswers.splice(0, primaryAnswers.length, 503, 503);
        const handle = await client.workflow.start(aiServiceOutageRemediation, {
          taskQueue,
          workflowId: `record-ws-ai-outage-${randomUUID()}`,
          args: [{ requestedBy: 'oncall', reason: 'recorded', settleSeconds: 1, rolloutTimeoutSeconds: 1 }],
        });
        await until(
          () => handle.query(aiServiceOutageStatusQuery),
          (st) => !!st.failoverWorkflowId,
        );
        const failover = client.workflow.getHandle(
          (await handle.query(aiServiceOutageStatusQuery)).failoverWorkflowId!,
        );
        await until(
          () => failover.query(ingressSwitchStatusQuery),
          (s) => s.step === 'awaiting-approval',
        );
        await failover.executeUpdate(decideUpdate, {
          args: [{ gate: 'failover', decision: 'reject', by: 'ai-lead', reason: 'recorded refusal' }],
        });
        return handle;
      },
    },
  ];
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((t) => !recordings.some((r) => r.type === t));
  if (unknown.length)
    throw new Error(`no recording for ${unknown.join(', ')}; known: ${recordings.map((r) => r.type).join(', ')}`);
  await backupWorker.runUntil(() =>
    worker.runUntil(async () => {
      mkdirSync(join(ROOT, 'test', 'histories'), { recursive: true });
      for (const r of recordings.filter((rec) => wanted.length === 0 || wanted.includes(rec.type))) {
        const handle = await r.start();
        await handle
          .result()
          .catch((err: Error) => process.stdout.write(`${r.type} failed as expected here: ${err.message}\n`));
        // Recorded as the codec opens it: the stack's keys are its own, and the replay tests run on any machine.
        const history = await decodeHistory(await handle.fetchHistory(), converter.payloadCodecs[0]);
        // The workflow ID is part of the name: workflows that check their own ID must replay under it.
        const file = `${r.type}@${handle.workflowId}.json`;
        writeFileSync(
          join(ROOT, 'test', 'histories', file),
          `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`,
        );
        process.stdout.write(`recorded ${file}\n`);
      }
    }),
  );
  await deps.close();
  await connection.close();
  await nativeConnection.close();
  server.close();
  await scrollUniversity.close();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

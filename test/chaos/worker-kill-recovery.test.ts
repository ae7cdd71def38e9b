/**
 * Worker SIGKILL at random points of the AI service recovery saga (recoverAiService: snapshot, restore-models,
 * apply-config, restart-engines, validate), against MinIO and the Kubernetes API server as test/ai-recovery sets
 * them up: a good model backup (with its ConfigMap), then a bad deploy over it, two engines the test plays the
 * deployment controller for. The model folders hold a few hundred shards besides the three models of the ai-recovery
 * test, so the two copy steps last long enough to be killed part-way through.
 *
 * The scenario first makes one clean run (no kill) and keeps what it left: the serving models, the pre-recovery
 * snapshot, the backup bucket's keys, the ConfigMap's content changes (a watch), each engine's template changes
 * (generation) and restart stamp, the steps in the result, the audit records by step/action/outcome, the Slack
 * message and the pages. Each run then makes the fixture afresh, starts the recovery on a worker process, kills it
 * with SIGKILL at a point picked from the seeded random share (run r of n falls in the r-th n-th of the saga, in
 * order: at 10-90 % of the snapshot's or the restore's copies by its heartbeat, the instant the ConfigMap write or an
 * engine's restart stamp lands (a watch), while an engine's rollout is held and waited for, while a health probe or
 * the metrics read is held at the receiver), starts a second worker, waits for the result (bounded), replays the
 * history and compares the effects with the clean run's: anything beyond them (an object, a ConfigMap change, a
 * restart, an undo, an audit record, a message) is counted duplicated, anything short of them lost, and each run
 * asserts there is neither. Noted: where each kill landed as the server shows it (the activity in flight, or the one
 * completed last), and the steps the kills hit over the scenario.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { after, describe } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { RESTARTED_AT_ANNOTATION } from '../../src/activities/kubernetes/rollout';
import { seededRandom } from '../../src/contracts/ab-simulation';
import { backupIdFor } from '../../src/contracts/backups';
import { recoverySnapshotPrefix } from '../../src/contracts/recovery';
import type { OwnedDeps } from '../../src/workers/deps';
import { recoverAiService } from '../../src/workflows';
import {
  RECOVERY_STEPS,
  recoveryStatusQuery,
  type RecoverAiServiceResult,
  type RecoveryState,
} from '../../src/workflows/ai-recovery/messages';
import { keysUnder } from '../backup/helpers';
import {
  chaosRuns,
  chaosSeed,
  chaosSuite,
  countRun,
  heartbeatDetails,
  killHard,
  resultWithin,
  statusWhen,
  type ScenarioTally,
} from '../helpers/chaos';
import { testDeps } from '../helpers/deps';
import { GOOD_DAILY_METRICS, type HttpReceiver, type ScriptedResponse } from '../helpers/http-receiver';
import { kubeconfigPath, recordRolloutComplete, testCluster, type TestCluster } from '../helpers/kube';
import { CRISIS_PATHS, pagerDutyEvents, receiverEnv, slackTexts } from '../helpers/runbook-receiver';
import {
  badDeployOverGoodBackup,
  contentsUnder,
  RECOVERY_CONFIGMAP,
  RECOVERY_ENGINES,
} from '../helpers/ai-recovery-fixture';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { exited, waitUntil } from '../helpers/wait';

const MODELS = 'aiops-chaos-recovery-models';
const BACKUPS = 'aiops-chaos-recovery-backups';
const METRICS_PATH = '/ai/metrics/daily';
/** Shards besides the ai-recovery test's three models: the copy steps then take long enough to be killed within. */
const SHARDS = 300;

const shards = (kind: 'good' | 'bad') =>
  Object.fromEntries(
    Array.from({ length: SHARDS }, (_, i) => [
      `optimization/shards/${String(i).padStart(4, '0')}.bin`,
      `${kind} shard ${i}${kind === 'bad' ? '!' : ''}`,
    ]),
  );
/** The last known good models (test/ai-recovery's, with the shards). */
const GOOD: Record<string, string> = {
  'optimization/weights.bin': 'good weights',
  'recommendation/model.onnx': 'good model',
  'shared/vocab.txt': 'vocab',
  ...shards('good'),
};
/** What the bad deploy left serving. */
const BAD: Record<string, string> = {
  'optimization/weights.bin': 'bad weights!',
  'recommendation/model.onnx': 'good model',
  'extra/debris.bin': 'x',
  ...shards('bad'),
};
/** The retraining's folder beside the served models: neither snapshotted nor touched by the recovery. */
const TRAINING: Record<string, string> = {
  'retraining/2026-12/data.csv': 'this month',
  'retraining/2026-12/models/m.bin': 'candidate',
};
/** Objects the snapshot copies (every served one) and the restore copies (those that differ from the backup's). */
const SNAPSHOT_COPIES = Object.keys(BAD).length;
const RESTORE_COPIES = Object.entries(GOOD).filter(([k, v]) => BAD[k] !== v).length;

/** How long the saga may take to reach its kill point, and to finish after the kill (a lost completion: 1 min). */
const KILL_POINT_DEADLINE_MS = 120_000;
const RECOVERY_DEADLINE_MS = 180_000;

/** PENDING_ACTIVITY_STATE_STARTED in temporal.api.enums.v1.PendingActivityState. */
const PENDING_ACTIVITY_STARTED = 2;

/** The saga step each activity of the recovery belongs to ("start": the reads before the first step). */
const STEP_OF: Record<string, string> = {
  maintenancePlan: 'start',
  findModelBackup: 'start',
  getConfigMap: 'start',
  snapshotServingModels: 'snapshot',
  restoreModels: 'restore-models',
  applyConfigMap: 'apply-config',
  rolloutRestart: 'restart-engines',
  waitForRollout: 'restart-engines',
  listHealthEndpoints: 'validate',
  probeHealth: 'validate',
  fetchDailyMetrics: 'validate',
  notifySlack: 'telling',
};
const STEP_ORDER = ['start', ...RECOVERY_STEPS, 'telling'];
const stepIndex = (activityType: string) => STEP_ORDER.indexOf(STEP_OF[activityType] ?? 'start');

/** Where in the saga a run kills the worker. */
type KillPoint =
  | { kind: 'copies'; activity: 'snapshotServingModels' | 'restoreModels'; share: number; total: number }
  | { kind: 'configmap-written' }
  | { kind: 'stamp-written'; engine: string }
  | { kind: 'rollout-held'; engine: string }
  | { kind: 'request-held'; what: 'health' | 'metrics' };

const KILL_POINT_KINDS = 7;

/** The kill point at share `u` (0 to 1) of the saga: seven stretches in saga order, `u` placing it within one. */
function killPointAt(u: number): KillPoint {
  const i = Math.min(KILL_POINT_KINDS - 1, Math.floor(u * KILL_POINT_KINDS));
  const within = u * KILL_POINT_KINDS - i;
  const engine = RECOVERY_ENGINES[within < 0.5 ? 0 : 1];
  const share = 0.1 + 0.8 * within;
  switch (i) {
    case 0:
      return { kind: 'copies', activity: 'snapshotServingModels', share, total: SNAPSHOT_COPIES };
    case 1:
      return { kind: 'copies', activity: 'restoreModels', share, total: RESTORE_COPIES };
    case 2:
      return { kind: 'configmap-written' };
    case 3:
      return { kind: 'stamp-written', engine };
    case 4:
      return { kind: 'rollout-held', engine };
    case 5:
      return { kind: 'request-held', what: 'health' };
    default:
      return { kind: 'request-held', what: 'metrics' };
  }
}

function pointStep(p: KillPoint): string {
  switch (p.kind) {
    case 'copies':
      return STEP_OF[p.activity];
    case 'configmap-written':
      return 'apply-config';
    case 'stamp-written':
    case 'rollout-held':
      return 'restart-engines';
    case 'request-held':
      return 'validate';
  }
}

function pointLabel(p: KillPoint): string {
  switch (p.kind) {
    case 'copies':
      return `${STEP_OF[p.activity]} at ${Math.round(p.share * 100)} % of its ${p.total} copies`;
    case 'configmap-written':
      return 'apply-config: the ConfigMap write landing';
    case 'stamp-written':
      return `restart-engines: ${p.engine}'s restart stamp landing`;
    case 'rollout-held':
      return `restart-engines: ${p.engine}'s rollout held and waited for`;
    case 'request-held':
      return `validate: the ${p.what === 'health' ? 'health probe' : 'metrics read'} held in flight`;
  }
}

/** What a recovery left, compared between a clean run and a killed one. */
interface Effects {
  /** The model bucket, key to content (retraining folder included). */
  serving: Record<string, string>;
  /** The pre-recovery snapshot, relative key to content (its marker as the count it records). */
  snapshot: Record<string, string>;
  /** Every other key of the backup bucket. */
  backupKeys: string[];
  /** The ConfigMap's model.version as the run found it, then after each change of its data. */
  configVersions: string[];
  /** Writes to the ConfigMap that changed nothing in its data (noted, not counted). */
  configNoopWrites: number;
  configData: Record<string, string>;
  /** Template changes per engine (generation since the fixture made it). */
  restarts: Record<string, number>;
  /** The distinct restart stamps on the engines' templates. */
  stamps: string[];
  /** Steps the result (or the failure) says completed. */
  steps: string[];
  /** Undos that ran, and those that failed. */
  undone: string[];
  /** Audit records of the run by step/action/outcome. */
  audit: Record<string, number>;
  /** Slack messages saying the AI service recovered, and PagerDuty triggers, naming the workflow. */
  recoveredPosts: number;
  pages: number;
}

/** Anything beyond the clean run's effects (duplicated) and anything short of them (lost), one entry per unit. */
function compareEffects(clean: Effects, run: Effects): { duplicated: string[]; lost: string[] } {
  const duplicated: string[] = [];
  const lost: string[] = [];
  const objects = (where: string, c: Record<string, string>, r: Record<string, string>) => {
    for (const [key, content] of Object.entries(c)) {
      if (r[key] === undefined) lost.push(`${where} ${key} missing`);
      else if (r[key] !== content) lost.push(`${where} ${key} not as a clean run leaves it`);
    }
    for (const key of Object.keys(r)) if (c[key] === undefined) duplicated.push(`${where} ${key} extra`);
  };
  const count = (what: string, c: number, r: number) => {
    for (let i = c; i < r; i++) duplicated.push(what);
    for (let i = r; i < c; i++) lost.push(what);
  };
  objects('serving', clean.serving, run.serving);
  objects('snapshot', clean.snapshot, run.snapshot);
  objects(
    'backup bucket',
    Object.fromEntries(clean.backupKeys.map((k) => [k, ''])),
    Object.fromEntries(run.backupKeys.map((k) => [k, ''])),
  );
  count('ConfigMap change', clean.configVersions.length, run.configVersions.length);
  if (!isDeepStrictEqual(clean.configData, run.configData)) lost.push('ConfigMap data not as a clean run leaves it');
  for (const e of RECOVERY_ENGINES) count(`${e} restart`, clean.restarts[e] ?? 0, run.restarts[e] ?? 0);
  count('restart stamp', clean.stamps.length, run.stamps.length);
  for (const s of clean.steps) if (!run.steps.includes(s)) lost.push(`step ${s} not completed`);
  for (const u of run.undone) if (!clean.undone.includes(u)) duplicated.push(`undo of ${u} ran`);
  for (const key of new Set([...Object.keys(clean.audit), ...Object.keys(run.audit)]))
    count(`audit ${key}`, clean.audit[key] ?? 0, run.audit[key] ?? 0);
  count('Slack "recovered" message', clean.recoveredPosts, run.recoveredPosts);
  count('page', clean.pages, run.pages);
  return { duplicated, lost };
}

/** A receiver route whose answers can be held: the request is taken, the answer waits until released. */
function holdableRoute(receiver: HttpReceiver, path: string, answer: ScriptedResponse) {
  let armed = false;
  let onArrival: (() => void) | undefined;
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  receiver.route(path, async () => {
    if (armed) {
      onArrival?.();
      await gate;
    }
    return answer;
  });
  return {
    /** Holds the next requests' answers, calling `arrived` as each comes in. */
    arm(arrived: () => void) {
      armed = true;
      onArrival = arrived;
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    release() {
      armed = false;
      onArrival = undefined;
      release();
    },
  };
}

/** The deployment controller's part (test/helpers/kube.ts playDeploymentController), except for deployments held. */
function rolloutController(c: TestCluster) {
  const held = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const list = await c.apps.listNamespacedDeployment({ namespace: c.namespace }).catch(() => ({ items: [] }));
      for (const d of list.items) {
        const name = d.metadata!.name!;
        if (!held.has(name) && (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0))
          await recordRolloutComplete(c, name).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    held,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** What a watch of the ConfigMap and the engines saw, and a hook for killing the worker the instant a write lands. */
interface ClusterWatch {
  configVersions: string[];
  configNoopWrites: number;
  seen: Set<string>;
  ended?: string;
  listener?: (event: { kind: 'configmap'; obj: V1ConfigMap } | { kind: 'deployment'; obj: V1Deployment }) => void;
  stop(): void;
}

async function watchCluster(c: TestCluster): Promise<ClusterWatch> {
  const watch = new c.k8s.Watch(c.kc);
  let stopped = false;
  let lastData: string | undefined;
  const w: ClusterWatch = { configVersions: [], configNoopWrites: 0, seen: new Set(), stop: () => undefined };
  const done = (err: unknown) => {
    if (!stopped) w.ended = String(err ?? 'closed by the server');
  };
  const configMaps = await watch.watch(
    `/api/v1/namespaces/${c.namespace}/configmaps`,
    { fieldSelector: `metadata.name=${RECOVERY_CONFIGMAP}` },
    (phase: string, obj: V1ConfigMap) => {
      if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
      const data = JSON.stringify(Object.entries(obj.data ?? {}).sort());
      if (data !== lastData) w.configVersions.push(obj.data?.['model.version'] ?? '');
      else if (phase === 'MODIFIED') w.configNoopWrites += 1;
      lastData = data;
      w.seen.add(`configmap/${obj.metadata?.name}`);
      w.listener?.({ kind: 'configmap', obj });
    },
    done,
  );
  const deployments = await watch.watch(
    `/apis/apps/v1/namespaces/${c.namespace}/deployments`,
    {},
    (phase: string, obj: V1Deployment) => {
      if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
      w.seen.add(`deployment/${obj.metadata?.name}`);
      w.listener?.({ kind: 'deployment', obj });
    },
    done,
  );
  w.stop = () => {
    stopped = true;
    configMaps.abort();
    deployments.abort();
  };
  // The watch sends what is there first: once it has, it sees every change after.
  await waitUntil(
    'the watch under way',
    () => w.seen.size,
    (n) => n >= 1 + RECOVERY_ENGINES.length,
    30_000,
  );
  return w;
}

interface Pending {
  type: string;
  attempt: number;
  started: boolean;
  details?: unknown;
}

describe('a worker SIGKILLed at random points of the AI service recovery saga', () => {
  const runs = chaosRuns();
  const random = seededRandom(chaosSeed());
  const suite = chaosSuite('aiops_test_chaos_recovery');

  let cluster: TestCluster | undefined;
  let deps: OwnedDeps | undefined;
  let holds: Record<'health' | 'metrics', ReturnType<typeof holdableRoute>> | undefined;
  let clean: Effects | undefined;
  const hits: Record<string, number> = {};
  after(async () => {
    await deps?.close();
    await cluster?.destroy();
  });

  /** The cluster, the fixture's clients and the receiver's routes, made once. */
  async function setting(): Promise<{ c: TestCluster; d: OwnedDeps }> {
    cluster ??= await testCluster('aiops-chaos-recovery');
    deps ??= await testDeps({
      ...receiverEnv(suite.receiver),
      DATABASE_URL: suite.databaseUrl,
      KUBECONFIG: kubeconfigPath(),
      K8S_AI_NAMESPACE: cluster.namespace,
      S3_BUCKET_MODELS: MODELS,
      S3_BUCKET_BACKUPS: BACKUPS,
    });
    holds ??= {
      health: holdableRoute(suite.receiver, CRISIS_PATHS.health, { status: 200, body: { status: 'healthy' } }),
      metrics: holdableRoute(suite.receiver, METRICS_PATH, {
        status: 200,
        body: { ...GOOD_DAILY_METRICS, accuracy_rate: 0.91 },
      }),
    };
    return { c: cluster, d: deps };
  }

  /** What the worker process needs besides the suite's settings: the cluster, the buckets, the metrics. */
  const workerSettings = (c: TestCluster): NodeJS.ProcessEnv => ({
    KUBECONFIG: kubeconfigPath(),
    K8S_AI_NAMESPACE: c.namespace,
    S3_BUCKET_MODELS: MODELS,
    S3_BUCKET_BACKUPS: BACKUPS,
    WEDSYNC_METRICS_URL: suite.receiver.url(METRICS_PATH),
  });

  /** The workflow's pending activities as the server holds them, heartbeat details opened with the codec. */
  async function pendingOf(handle: WorkflowHandle): Promise<{ status: string; pending: Pending[] }> {
    const { status, raw } = await handle.describe();
    const pending: Pending[] = [];
    for (const a of raw.pendingActivities ?? []) {
      const details = await heartbeatDetails(a);
      pending.push({
        type: a.activityType?.name ?? '',
        attempt: a.attempt ?? 1,
        started: a.state === PENDING_ACTIVITY_STARTED,
        details,
      });
    }
    return { status: status.name, pending };
  }

  /** Where the kill landed, as the server shows it with no worker left: the step, and what was in flight. */
  async function whereKilled(handle: WorkflowHandle): Promise<{ step: string; said: string }> {
    const { status, pending } = await pendingOf(handle);
    if (pending.length)
      return {
        step: STEP_OF[pending[0].type] ?? pending[0].type,
        said: pending.map((p) => `${p.type} attempt ${p.attempt} ${p.started ? 'running' : 'scheduled'}`).join(', '),
      };
    if (status !== 'RUNNING') return { step: 'after the end', said: `the workflow already ${status}` };
    const events = (await handle.fetchHistory()).events ?? [];
    const typeOf = new Map(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name ?? '']),
    );
    const last = [...events].reverse().find((e) => e.activityTaskCompletedEventAttributes);
    const type = last ? (typeOf.get(String(last.activityTaskCompletedEventAttributes!.scheduledEventId)) ?? '') : '';
    return type
      ? { step: STEP_OF[type] ?? type, said: `between activities, ${type} completed last` }
      : { step: 'start', said: 'before any activity completed' };
  }

  /** Everything the run left, read once the workflow is over. */
  async function effectsOf(
    c: TestCluster,
    d: OwnedDeps,
    handle: WorkflowHandle,
    watch: ClusterWatch,
    state: { steps: string[]; undone: string[]; snapshotPrefix?: string },
  ): Promise<Effects> {
    const { s3, pool } = d;
    // The workflow's own recovery id (its start time and run), when no result names the snapshot.
    const described = await handle.describe();
    const prefix =
      state.snapshotPrefix ?? recoverySnapshotPrefix(backupIdFor(described.startTime, described.runId).toLowerCase());
    const snapshot = await contentsUnder(s3, BACKUPS, prefix);
    if (snapshot['snapshot.json'] !== undefined)
      snapshot['snapshot.json'] = `marker of ${(JSON.parse(snapshot['snapshot.json']) as { count?: number }).count}`;
    const deployments = await Promise.all(
      RECOVERY_ENGINES.map((name) => c.apps.readNamespacedDeployment({ name, namespace: c.namespace })),
    );
    const configMap = await c.core.readNamespacedConfigMap({ name: RECOVERY_CONFIGMAP, namespace: c.namespace });
    const { rows } = await pool.query<{ key: string; n: string }>(
      `SELECT step || '/' || action || '/' || outcome AS key, count(*) AS n FROM audit_log
        WHERE workflow_id = $1 GROUP BY 1`,
      [handle.workflowId],
    );
    const names = (text: string | undefined) => (text ?? '').includes(`(workflow ${handle.workflowId})`);
    return {
      serving: await contentsUnder(s3, MODELS, ''),
      snapshot,
      backupKeys: (await keysUnder(s3, BACKUPS, '')).filter((k) => !k.startsWith(prefix)),
      configVersions: [...watch.configVersions],
      configNoopWrites: watch.configNoopWrites,
      configData: configMap.data ?? {},
      restarts: Object.fromEntries(RECOVERY_ENGINES.map((e, i) => [e, (deployments[i].metadata?.generation ?? 1) - 1])),
      stamps: [
        ...new Set(
          deployments
            .map((dep) => dep.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION])
            .filter((s): s is string => s !== undefined),
        ),
      ],
      steps: state.steps,
      undone: state.undone,
      audit: Object.fromEntries(rows.map((r) => [r.key, Number(r.n)])),
      recoveredPosts: slackTexts(suite.receiver).filter((t) => names(t) && t.includes('recovered from model backup'))
        .length,
      pages: pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger' && names(e.payload?.summary))
        .length,
    };
  }

  interface Outcome {
    handle: WorkflowHandle;
    result?: RecoverAiServiceResult;
    failure?: string;
    effects: Effects;
    /** Where the kill landed; undefined for the clean run. */
    killed?: { step: string; said: string; late: boolean; at: number };
    completedAt?: number;
  }

  /**
   * One recovery on a fresh fixture: with `point`, the first worker is SIGKILLed there and a second one finishes;
   * without, the clean run.
   */
  async function recovery(tally: ScenarioTally, point?: KillPoint): Promise<Outcome> {
    const { c, d } = await setting();
    await badDeployOverGoodBackup(d, c, { models: MODELS, backups: BACKUPS }, GOOD, { ...BAD, ...TRAINING });
    const watch = await watchCluster(c);
    const controller = rolloutController(c);
    const taskQueue = uniqueId('chaos-recovery');
    const workers: ChildProcess[] = [];
    try {
      const first = await suite.worker(taskQueue, workerSettings(c));
      workers.push(first);
      let killedAt: number | undefined;
      const kill = () => {
        if (killedAt !== undefined) return;
        killedAt = Date.now();
        first.kill('SIGKILL');
      };
      // Points that a write or a request marks: the worker is killed the instant it is seen.
      if (point?.kind === 'configmap-written')
        watch.listener = (e) => {
          if (e.kind === 'configmap' && e.obj.data?.['model.version'] === '1.0') kill();
        };
      if (point?.kind === 'stamp-written')
        watch.listener = (e) => {
          if (
            e.kind === 'deployment' &&
            e.obj.metadata?.name === point.engine &&
            e.obj.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] !== undefined
          )
            kill();
        };
      if (point?.kind === 'request-held') holds![point.what].arm(kill);
      if (point?.kind === 'rollout-held') controller.held.add(point.engine);

      const handle = await suite.client.workflow.start(recoverAiService, {
        taskQueue,
        workflowId: uniqueId('chaos-recovery'),
        args: [{ requestedBy: 'chaos', reason: 'models corrupted by a bad deploy', rolloutTimeoutSeconds: 300 }],
      });

      let killed: Outcome['killed'];
      if (point) {
        let late = false;
        const at = pointStep(point);
        await waitUntil(
          `the kill point (${pointLabel(point)})`,
          async () => {
            if (killedAt !== undefined) return true;
            const { status, pending } = await pendingOf(handle);
            // Past the point's step already (or over): killed where it is, and noted.
            if (status !== 'RUNNING' || pending.some((p) => stepIndex(p.type) > STEP_ORDER.indexOf(at))) {
              late = true;
              return true;
            }
            if (point.kind === 'copies') {
              const copying = pending.find((p) => p.type === point.activity);
              const copied = (copying?.details as { copied?: number } | undefined)?.copied ?? 0;
              return copied >= point.share * point.total;
            }
            if (point.kind === 'rollout-held')
              return pending.some(
                (p) =>
                  p.type === 'waitForRollout' &&
                  p.started &&
                  (p.details as { deployment?: string } | undefined)?.deployment === point.engine,
              );
            return false;
          },
          Boolean,
          KILL_POINT_DEADLINE_MS,
        );
        kill();
        await exited(first);
        killed = { ...(await whereKilled(handle)), late, at: killedAt! };
        hits[killed.step] = (hits[killed.step] ?? 0) + 1;
        // Nothing is held for the second worker.
        controller.held.clear();
        holds!.health.release();
        holds!.metrics.release();
        watch.listener = undefined;
        workers.push(await suite.worker(taskQueue, workerSettings(c)));
      }

      let result: RecoverAiServiceResult | undefined;
      let failure: string | undefined;
      let state: RecoveryState | undefined;
      try {
        result = await resultWithin<RecoverAiServiceResult>(handle, RECOVERY_DEADLINE_MS, tally.notes);
      } catch (err) {
        // A recovery that failed: its undos ran (the failure's details say which), which a clean run never does.
        failure = String(err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : err);
        const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
        if (cause instanceof ApplicationFailure) state = cause.details?.[0] as RecoveryState | undefined;
      }
      const completedAt = Date.now();
      const status = await statusWhen(handle, recoveryStatusQuery, () => true, 30_000);
      await replayOwnHistory(handle);
      const steps = result?.steps.map((s) => s.step) ?? state?.completed ?? status?.completed ?? [];
      const undone = [
        ...(status?.undone ?? state?.undone ?? []),
        ...(status?.notUndone ?? state?.notUndone ?? []).map((n) => `${n.step} (failed)`),
      ];
      const effects = await effectsOf(c, d, handle, watch, { steps, undone, snapshotPrefix: result?.snapshotPrefix });
      if (watch.ended) tally.notes.push(`the cluster watch ended early: ${watch.ended}`);
      return { handle, result, failure, effects, killed, completedAt };
    } finally {
      watch.stop();
      await controller.stop();
      holds?.health.release();
      holds?.metrics.release();
      // Each run's workers go with it: twenty runs of two full workers would not fit beside the stack.
      for (const w of workers) await killHard(w);
    }
  }

  suite.scenario(
    'every step of the recovery takes effect once, as in a clean run, and no undo runs',
    {
      row: `worker SIGKILL: AI service recovery saga (${SNAPSHOT_COPIES} models, 2 engines, ConfigMap)`,
      runs,
      timeout: runs * 300_000,
    },
    async (tally, run) => {
      if (!clean) {
        // The baseline: a run without a kill, which must leave what test/ai-recovery's clean recovery leaves.
        const baseline = await recovery(tally);
        const e = baseline.effects;
        assert.ok(baseline.result, `the clean run completed: ${baseline.failure}`);
        assert.deepEqual(
          {
            steps: e.steps,
            serving: e.serving,
            snapshot: Object.keys(e.snapshot).length,
            snapshotObjects: Object.fromEntries(
              Object.entries(e.snapshot)
                .filter(([k]) => k.startsWith('objects/'))
                .map(([k, v]) => [k.slice('objects/'.length), v]),
            ),
            configVersions: e.configVersions,
            restarts: e.restarts,
            stamps: e.stamps.length,
            undone: e.undone,
            recoveredPosts: e.recoveredPosts,
            pages: e.pages,
            accuracy: baseline.result.accuracy,
          },
          {
            steps: [...RECOVERY_STEPS],
            serving: { ...GOOD, ...TRAINING },
            snapshot: SNAPSHOT_COPIES + 1,
            snapshotObjects: BAD,
            configVersions: ['2.0-bad', '1.0'],
            restarts: Object.fromEntries(RECOVERY_ENGINES.map((name) => [name, 1])),
            stamps: 1,
            undone: [],
            recoveredPosts: 1,
            pages: 0,
            accuracy: 0.91,
          },
          'the clean run leaves what test/ai-recovery expects of a recovery',
        );
        clean = e;
        tally.notes.push(
          `clean run: ${baseline.result.steps.map((s) => `${s.step} ${(s.durationMs / 1000).toFixed(1)} s`).join(', ')}`,
        );
      }

      // Run r of n is killed in the r-th n-th of the saga, at a random place within it.
      const point = killPointAt((run + random()) / runs);
      const outcome = await recovery(tally, point);
      const killed = outcome.killed!;
      const recovered = outcome.result !== undefined;
      await countRun(
        tally,
        outcome.handle,
        recovered,
        recovered ? (outcome.completedAt! - killed.at) / 1000 : undefined,
      );
      const { duplicated, lost } = compareEffects(clean, outcome.effects);
      tally.duplicated += duplicated.length;
      tally.lost += lost.length;
      const noop = outcome.effects.configNoopWrites
        ? `; ${outcome.effects.configNoopWrites} no-op ConfigMap write(s)`
        : '';
      tally.notes.push(
        `kill ${run + 1} (${pointLabel(point)}) hit ${killed.step}: ${killed.said}${killed.late ? ' (the step ended before its point)' : ''}; ` +
          `${recovered ? `recovered in ${((outcome.completedAt! - killed.at) / 1000).toFixed(1)} s` : `not recovered: ${outcome.failure ?? 'stuck'}`}${noop}`,
      );
      if (run === runs - 1)
        tally.notes.unshift(
          `kills by step hit: ${STEP_ORDER.filter((s) => hits[s])
            .map((s) => `${s} ${hits[s]}`)
            .concat(
              Object.keys(hits)
                .filter((s) => !STEP_ORDER.includes(s))
                .map((s) => `${s} ${hits[s]}`),
            )
            .join(', ')}`,
        );
      assert.deepEqual(
        { recovered, failure: outcome.failure, duplicated, lost },
        { recovered: true, failure: undefined, duplicated: [], lost: [] },
        `kill ${run + 1} at ${pointLabel(point)} (hit ${killed.step}: ${killed.said}): ` +
          'the recovery completed, each effect as the clean run left it, once, and no undo ran',
      );
    },
  );
});

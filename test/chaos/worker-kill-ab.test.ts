/**
 * Worker SIGKILL at random points of the monthly retraining's A/B wait (abTest in
 * src/workflows/model-retraining/workflow.ts): the candidate takes its canary weight, then every
 * RETRAIN_AB_INTERVAL_MINUTES (here 1, the smallest the configuration allows) the acceptance counts are read and the
 * sequential rule decides; the winner is promoted after a signed approval, the loser rolled back at once.
 *
 * The workflow ID is one per month (model-retraining-YYYY-MM), so the runs go one after another on a Temporal dev
 * server of this suite's own, where no one else's retraining of this month can take the ID. Each kill is one counted
 * run: a retraining looks ceil(kills / 2) times and takes two kills per interval, both at seeded random points: one in
 * the wait (or, in the first interval, the moment the canary weight lands on the API server, before the worker has
 * reported it), and one as the look falls due (around the timer firing, or while the look's read is in flight, held
 * by a lock on ai_feedback). After each kill another worker process starts on the same task queue.
 *
 * Compared with one clean retraining of the same verdict, counted where the effects land: every change the API server
 * saw to the candidate's Deployment, Service and canary Ingress (each weight the canary took), the main Deployment's
 * restarts (generation) and the model ConfigMap's data; the model_versions row and the audit rows of the run; the
 * Slack posts and PagerDuty events the receiver got (a PagerDuty event repeated under its dedup key is dropped
 * there, and only noted). More than the clean run is tally.duplicated, less is tally.lost. The looks must number what
 * the feedback schedule gives (feedback that decides is written only after the last-but-one look), the last one must
 * read the counts in the database and give their verdict, and every run ends by replaying its history.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { CANARY_WEIGHT_ANNOTATION } from '../../src/activities/kubernetes/canary';
import { seededRandom } from '../../src/contracts/ab-simulation';
import { DEFAULT_SEQUENTIAL, sequentialLook, type ArmCounts } from '../../src/contracts/sequential-test';
import { loadConfig } from '../../src/config';
import { modelRetraining } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  monthOf,
  retrainingStatusQuery,
  retrainingWorkflowId,
  type RetrainingResult,
  type RetrainingStatus,
} from '../../src/workflows/model-retraining/messages';
import { emptyPrefix } from '../backup/helpers';
import {
  chaosRuns,
  chaosSeed,
  chaosSuite,
  countRun,
  killHard,
  resultWithin,
  statusWhen,
  type ScenarioTally,
} from '../helpers/chaos';
import { playDeploymentController, playJobController, testCluster, type TestCluster } from '../helpers/kube';
import { CRISIS_PATHS } from '../helpers/runbook-receiver';
import type { RunbookSuite } from '../helpers/runbook-suite';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { feedback, PRODUCTION, productionReady } from '../model-retraining/helpers';

const DATABASE = 'aiops_test_chaos_ab';
const CANARY_WEIGHT = 10;
const METRICS_PATH = '/ai/metrics/daily';
/** At most this many kills in one retraining (five looks, five minutes of A/B wait). */
const KILLS_PER_RETRAINING = 10;
/** A status the run owes by now: an interval (60 s), an activity's start-to-close timeout after a kill, room. */
const STATUS_DEADLINE_MS = 180_000;
/** From the decisive look to the result: the gate, the promotion's restart and rollout, the record. */
const RESULT_DEADLINE_MS = 240_000;
/** A wait kill lands this long before the look at the latest, so the worker started after it is up by then. */
const WAIT_KILL_MARGIN_MS = 15_000;

type Verdict = 'promoted' | 'rolled-back';
/**
 * weight: when the canary weight lands on the API server; wait: in the interval's sleep; timer: from half a second
 * before the look is due to 1.5 s after; read: while the look's acceptance read waits on a lock.
 */
type KillKind = 'weight' | 'wait' | 'timer' | 'read';
interface Kill {
  look: number;
  kind: KillKind;
  /** Where in its window the kill lands (0 to 1), drawn from the seed. */
  share: number;
}

/** The last look's feedback: production 320 of 400 accepted; the candidate 368 (a win) or 260 (a loss). */
const DECISIVE: Record<Verdict, { production: [number, number]; candidate: [number, number] }> = {
  promoted: { production: [400, 320], candidate: [400, 368] },
  'rolled-back': { production: [400, 320], candidate: [400, 260] },
};

/** What one retraining left where its effects land, by name: counts to compare with the clean run's. */
type Effects = Record<string, number>;

interface RetrainingRun {
  handle: WorkflowHandle<typeof modelRetraining>;
  result?: Extract<RetrainingResult, { decision: string }>;
  effects: Effects;
  /** Looks the workflow counted, and acceptance reads its history scheduled. */
  looks: { counted?: number; read: number; expected: number };
  /** The last look as the workflow took it, and what the counts in the database give. */
  verdict: { taken?: string; counts?: string; fromData: string; dataCounts: string };
  /** Per kill, seconds until the run was back where the kill left it (undefined: never). */
  recovery: (number | undefined)[];
  pagerDutyRepeats: number;
}

/** The objects the retraining writes, as the API server's watch reported them, from the moment it started. */
interface WriteWatch {
  /** Resolves once an event satisfies `pred` (one seen already counts). */
  seen(pred: (e: ObjectState) => boolean, ms: number): Promise<boolean>;
  effects(): Effects;
  stop(): void;
}

interface ObjectState {
  kind: string;
  name: string;
  type: string;
  generation: number;
  weight?: string;
  data?: string;
}

interface KubeObject {
  metadata?: { name?: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

async function watchWrites(c: TestCluster, notes: string[]): Promise<WriteWatch> {
  const ns = c.namespace;
  const state = (kind: string, type: string, o: KubeObject): ObjectState => ({
    kind,
    name: o.metadata?.name ?? '',
    type,
    generation: o.metadata?.generation ?? 0,
    weight: o.metadata?.annotations?.[CANARY_WEIGHT_ANNOTATION],
    data: kind === 'ConfigMap' ? JSON.stringify(o.data ?? {}) : undefined,
  });
  const sources: {
    kind: string;
    path: string;
    list: () => Promise<{ items: KubeObject[]; metadata?: KubeObject['metadata'] }>;
  }[] = [
    {
      kind: 'Deployment',
      path: `/apis/apps/v1/namespaces/${ns}/deployments`,
      list: () => c.apps.listNamespacedDeployment({ namespace: ns }),
    },
    {
      kind: 'Service',
      path: `/api/v1/namespaces/${ns}/services`,
      list: () => c.core.listNamespacedService({ namespace: ns }),
    },
    {
      kind: 'Ingress',
      path: `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
      list: () => c.networking.listNamespacedIngress({ namespace: ns }),
    },
    {
      kind: 'ConfigMap',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      list: () => c.core.listNamespacedConfigMap({ namespace: ns }),
    },
  ];
  const initial = new Map<string, ObjectState>();
  const events: ObjectState[] = [];
  const waiters: { pred: (e: ObjectState) => boolean; resolve: () => void }[] = [];
  const controllers: AbortController[] = [];
  let stopped = false;
  for (const source of sources) {
    const list = await source.list();
    for (const item of list.items)
      initial.set(`${source.kind}/${item.metadata?.name}`, state(source.kind, 'LISTED', item));
    let resourceVersion = list.metadata?.resourceVersion;
    // A watch the server closes is followed again from the last version seen, so no write falls between the two.
    const follow = async (): Promise<void> => {
      const controller = await new c.k8s.Watch(c.kc).watch(
        source.path,
        { resourceVersion, allowWatchBookmarks: true },
        (type: string, o: KubeObject) => {
          resourceVersion = o?.metadata?.resourceVersion ?? resourceVersion;
          if (type === 'BOOKMARK') return;
          if (type === 'ERROR') {
            notes.push(`the ${source.kind} watch reported an error: ${JSON.stringify(o).slice(0, 120)}`);
            return;
          }
          const e = state(source.kind, type, o);
          events.push(e);
          for (const w of waiters.filter((x) => x.pred(e))) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        },
        (err: unknown) => {
          if (stopped) return;
          if (err) notes.push(`the ${source.kind} watch ended (${String(err).slice(0, 80)}); followed again`);
          follow().catch((e: unknown) => notes.push(`the ${source.kind} watch could not be followed: ${String(e)}`));
        },
      );
      controllers.push(controller);
    };
    await follow();
  }
  return {
    seen(pred, ms) {
      if (events.some(pred)) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        waiters.push({
          pred,
          resolve: () => {
            clearTimeout(timer);
            resolve(true);
          },
        });
      });
    },
    effects() {
      // Creations, removals, spec changes (generation), each weight the canary took, each change of a ConfigMap's
      // data: what changed on the API server. Status writes (the played controllers') change none of them.
      const effects: Effects = {};
      const add = (name: string, n = 1) => (effects[name] = (effects[name] ?? 0) + n);
      const current = new Map(initial);
      for (const e of events) {
        const key = `${e.kind}/${e.name}`;
        const before = current.get(key);
        if (e.type === 'DELETED') {
          add(`${key} removed`);
          current.delete(key);
          continue;
        }
        if (!before) add(`${key} created`);
        else if (e.generation > before.generation) add(`${key} spec changes`, e.generation - before.generation);
        if (e.kind === 'Ingress' && e.weight !== undefined && e.weight !== before?.weight)
          add(`${key} weight set to ${e.weight}`);
        if (e.kind === 'ConfigMap' && before && e.data !== before.data) add(`${key} data changes`);
        current.set(key, e);
      }
      return effects;
    },
    stop() {
      stopped = true;
      for (const controller of controllers) controller.abort();
    },
  };
}

/** Counts where the effects differ from the clean run's into the tally; returns the differences in words. */
function tallyEffects(tally: ScenarioTally, seen: Effects, clean: Effects): string[] {
  const differences: string[] = [];
  for (const name of new Set([...Object.keys(seen), ...Object.keys(clean)])) {
    const more = (seen[name] ?? 0) - (clean[name] ?? 0);
    if (more > 0) tally.duplicated += more;
    if (more < 0) tally.lost -= more;
    if (more !== 0) differences.push(`${name}: ${seen[name] ?? 0} (clean ${clean[name] ?? 0})`);
  }
  return differences;
}

const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

describe('a worker SIGKILLed at random points of the retraining A/B wait', () => {
  const kills = chaosRuns();
  const retrainings = Math.ceil(kills / KILLS_PER_RETRAINING);
  const killsEach = Math.ceil(kills / retrainings);
  const random = seededRandom(chaosSeed());
  const suite = chaosSuite(DATABASE, { ownServer: true });
  let cluster: TestCluster | undefined;
  after(async () => cluster?.destroy());
  /** The clean run of each verdict, made once, the first time a retraining of that verdict is measured. */
  const clean: Partial<Record<Verdict, RetrainingRun>> = {};

  /** Two kills per interval in order, wait then look; an odd count leaves one of the last interval's out. */
  function killPlan(count: number): Kill[] {
    const plan: Kill[] = [];
    for (let look = 1; look <= Math.ceil(count / 2); look++) {
      plan.push({ look, kind: look === 1 && random() < 0.5 ? 'weight' : 'wait', share: random() });
      plan.push({ look, kind: random() < 0.5 ? 'timer' : 'read', share: random() });
    }
    if (plan.length > count) plan.splice(plan.length - 2 + Math.floor(random() * 2), 1);
    return plan;
  }

  /** The acceptance counts since the A/B test began, as the database has them. */
  async function countsSince(since: string, versions: [string, string]): Promise<[ArmCounts, ArmCounts]> {
    const { rows } = await suite.deps.pool.query<{ model_version: string; trials: string; successes: string }>(
      `SELECT model_version, count(*) AS trials, count(*) FILTER (WHERE outcome = 'accepted') AS successes
         FROM ai_feedback WHERE model_version = ANY($1) AND created_at >= $2 GROUP BY model_version`,
      [versions, since],
    );
    const arm = (v: string) => {
      const r = rows.find((x) => x.model_version === v);
      return { trials: Number(r?.trials ?? 0), successes: Number(r?.successes ?? 0) };
    };
    return [arm(versions[0]), arm(versions[1])];
  }

  /** The look's acceptance read waiting on a lock: the look is in flight on the worker. */
  async function readWaiting(): Promise<boolean> {
    const { rows } = await suite.deps.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FILTER (WHERE outcome =%'`,
    );
    return rows[0].n !== '0';
  }

  /**
   * One retraining from a fresh production to its result, with `kills` at their points of the A/B wait, and what it
   * left where its effects land. Without kills: the clean run the others are compared with.
   */
  async function retraining(verdict: Verdict, kills: Kill[], notes: string[]): Promise<RetrainingRun> {
    const c = (cluster ??= await testCluster('aiops-chaos-ab'));
    const { deps, receiver } = suite;
    receiver.route(METRICS_PATH, {
      status: 200,
      body: { response_time_ms: 180, accuracy_rate: 0.9, availability: 0.999, error_rate: 0.001, queue_length: 2 },
    });
    const settings: NodeJS.ProcessEnv = {
      K8S_AI_NAMESPACE: c.namespace,
      RETRAIN_AB_INTERVAL_MINUTES: '1',
      RETRAIN_AB_MAX_DAYS: '1',
      RETRAIN_CANARY_WEIGHT: String(CANARY_WEIGHT),
      WEDSYNC_METRICS_URL: receiver.url(METRICS_PATH),
    };
    const config = loadConfig({ ...process.env, ...settings });
    const plan = config.retraining;
    // Only deps is read of the suite there (the in-process poll interval); this suite's workers poll as configured.
    await productionReady({ deps } as RunbookSuite, c, deps.pool);
    receiver.requests.length = 0;
    const looks = Math.max(1, ...kills.map((k) => k.look));
    const watch = await watchWrites(c, notes);
    const deployments = playDeploymentController(c);
    const jobs = playJobController(c, deps.s3, 0.91);
    const taskQueue = uniqueId('chaos-ab');
    let worker: ChildProcess = await suite.worker(taskQueue, settings);
    const recovery: (number | undefined)[] = [];
    const started = await suite.client.workflow.start(modelRetraining, {
      taskQueue,
      workflowId: retrainingWorkflowId(monthOf(Date.now())),
      args: [{ requestedBy: 'ai-lead', reason: `chaos: A/B wait, ${kills.length} kills` }],
    });
    const handle = suite.client.workflow.getHandle<typeof modelRetraining>(
      started.workflowId,
      started.firstExecutionRunId,
    );
    const status = (pred: (s: RetrainingStatus) => boolean) =>
      statusWhen(handle, retrainingStatusQuery, pred, STATUS_DEADLINE_MS);
    const looked = (n: number) => (s: RetrainingStatus) => s.ab !== undefined && s.ab.looks >= n;
    /** Kills the worker; `between` runs while none is up; another starts. Returns when the kill landed. */
    const killWorker = async (between?: () => Promise<void>) => {
      await killHard(worker);
      const killedAt = Date.now();
      await between?.();
      worker = await suite.worker(taskQueue, settings);
      return killedAt;
    };
    let result: RetrainingRun['result'];
    let candidate = '';
    let pagerDutyRepeats = 0;
    try {
      measured: for (let look = 1; look <= looks; look++) {
        const inWait = kills.find((k) => k.look === look && (k.kind === 'weight' || k.kind === 'wait'));
        const atLook = kills.find((k) => k.look === look && (k.kind === 'timer' || k.kind === 'read'));
        if (inWait?.kind === 'weight') {
          const landed = await watch.seen(
            (e) => e.kind === 'Ingress' && e.weight === String(CANARY_WEIGHT),
            STATUS_DEADLINE_MS,
          );
          if (!landed) notes.push('the canary weight never landed');
          const killedAt = await killWorker();
          // The A/B status is set once the weight write is reported: a write cut off by the kill is retried first.
          const back = await status(looked(0));
          recovery.push(back ? (Date.now() - killedAt) / 1000 : undefined);
          if (!back) break measured;
        }
        const before = await status(looked(look - 1));
        if (!before) break;
        if (before.ab!.looks > look - 1) notes.push(`look ${look - 1} was passed before the test saw it`);
        candidate = before.version;
        if (look === looks) {
          // What decides is written only now: every look before this one had nothing to count.
          await feedback(deps.pool, PRODUCTION, ...DECISIVE[verdict].production);
          await feedback(deps.pool, candidate, ...DECISIVE[verdict].candidate);
        }
        const due = Date.parse(before.ab!.nextLookAt!);
        if (inWait?.kind === 'wait') {
          await sleepUntil(Date.now() + inWait.share * Math.max(0, due - WAIT_KILL_MARGIN_MS - Date.now()));
          const killedAt = await killWorker();
          // Back: the new worker has replayed the run and answers for it, still in the same interval.
          const back = await status(looked(look - 1));
          recovery.push(back ? (Date.now() - killedAt) / 1000 : undefined);
          if (!back) break;
        }
        if (!atLook) continue;
        let killedAt: number;
        if (atLook.kind === 'timer') {
          await sleepUntil(due - 500 + 2000 * atLook.share);
          killedAt = await killWorker();
        } else {
          const locker = await deps.pool.connect();
          try {
            await sleepUntil(due - 3000);
            await locker.query('BEGIN');
            await locker.query('LOCK TABLE ai_feedback IN ACCESS EXCLUSIVE MODE');
            const inFlight = await waitUntil('the look read in flight', readWaiting, Boolean, 60_000).catch(
              () => false,
            );
            if (!inFlight) notes.push(`look ${look}: its read never waited on the lock`);
            // The lock is let go only once the worker that holds the read is dead.
            killedAt = await killWorker(() => locker.query('ROLLBACK').then(() => undefined));
          } finally {
            await locker.query('ROLLBACK').catch(() => undefined);
            locker.release();
          }
        }
        const back = await status(looked(look));
        recovery.push(back ? (Date.now() - Math.max(killedAt, due)) / 1000 : undefined);
        if (!back) break;
      }
      if (verdict === 'promoted') {
        const atGate = await status((s) => s.stage === 'promotion-gate' && s.gates.length > 0);
        if (atGate) {
          await handle
            .executeUpdate(decideUpdate, {
              args: [{ gate: 'promote-model', decision: 'approve', by: 'ai-lead', reason: 'chaos: the candidate won' }],
            })
            .catch((err: unknown) => notes.push(`the approval was refused: ${String(err).slice(0, 120)}`));
        }
      }
      result = await resultWithin(handle, RESULT_DEADLINE_MS, notes);
      // The candidate's objects are removed last; their removal is waited for before the watch is read.
      await watch.seen((e) => e.kind === 'Deployment' && e.type === 'DELETED', 10_000);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      watch.stop();
      await jobs.stop();
      await deployments.stop();
      await killHard(worker);
    }

    candidate = result?.version ?? candidate;
    const effects = watch.effects();
    const runId = started.firstExecutionRunId;
    const { rows: audit } = await deps.pool.query<{ what: string; n: string }>(
      `SELECT step || '/' || action || '/' || outcome AS what, count(*) AS n FROM audit_log WHERE run_id = $1 GROUP BY 1`,
      [runId],
    );
    for (const a of audit) effects[`audit ${a.what}`] = Number(a.n);
    const { rows: recorded } = await deps.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM model_versions WHERE version = $1',
      [candidate],
    );
    effects['model_versions rows'] = Number(recorded[0].n);
    effects['Slack posts'] = receiver.requests.filter((r) => r.path === CRISIS_PATHS.slack).length;
    const pages = receiver.requests
      .filter((r) => r.path === CRISIS_PATHS.pagerduty)
      .map((r) => JSON.parse(r.body) as { event_action?: string; dedup_key?: string })
      .map((p) => `${p.event_action} ${p.dedup_key}`);
    effects['PagerDuty events by dedup key'] = new Set(pages).size;
    pagerDutyRepeats = pages.length - new Set(pages).size;

    const events = (await handle.fetchHistory()).events ?? [];
    const read = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'acceptanceByVersion',
    ).length;
    const last = result?.ab?.last;
    const since = result?.ab?.since;
    const [control, cand] = since
      ? await countsSince(since, [PRODUCTION, candidate])
      : [
          { trials: 0, successes: 0 },
          { trials: 0, successes: 0 },
        ];
    const fromData = sequentialLook(control, cand, {
      ...DEFAULT_SEQUENTIAL,
      alpha: plan.alpha,
      minPerArm: plan.minPerArm,
    }).verdict;
    const armText = (a?: ArmCounts) => `${a?.successes}/${a?.trials}`;
    // The run's extract and models under its own prefix of the models bucket go once they are counted.
    if (result?.version) await emptyPrefix(deps.s3, config.s3.buckets.models, `retraining/${result.version}/`);
    return {
      handle,
      result,
      effects,
      looks: { counted: result?.ab?.looks, read, expected: looks },
      verdict: {
        taken: last?.verdict,
        counts: last && `${armText(last.control)} vs ${armText(last.candidate)}`,
        fromData,
        dataCounts: `${armText(control)} vs ${armText(cand)}`,
      },
      recovery,
      pagerDutyRepeats,
    };
  }

  suite.scenario(
    'each look continues where it was, the verdict is the data’s, and every effect lands once',
    {
      row: `worker SIGKILL: retraining A/B wait (${retrainings * killsEach} kills, 1-minute looks)`,
      runs: retrainings,
      workflows: killsEach,
      timeout: (retrainings + 2) * (10 + killsEach * 2) * 60_000,
    },
    async (tally, run) => {
      const verdict: Verdict = run % 2 === 0 ? 'promoted' : 'rolled-back';
      if (!clean[verdict]) {
        const reference = await retraining(verdict, [], tally.notes);
        assert.equal(reference.result?.decision, verdict, 'the clean run decides as its data says');
        await replayOwnHistory(reference.handle);
        clean[verdict] = reference;
        const counted = Object.entries(reference.effects).map(([name, n]) => `${name} ${n}`);
        tally.notes.push(`clean ${verdict} run: ${counted.join(', ')}`);
      }
      const plan = killPlan(killsEach);
      const r = await retraining(verdict, plan, tally.notes);
      const completed = r.result?.decision === verdict;
      for (const [i] of plan.entries()) await countRun(tally, r.handle, completed, r.recovery[i]);
      await replayOwnHistory(r.handle);

      const differences = tallyEffects(tally, r.effects, clean[verdict].effects);
      // A look missing or repeated: counted as the workflow counts them and as its history read the counts.
      const looks = Math.min(r.looks.counted ?? 0, r.looks.read);
      tally.lost += Math.max(0, r.looks.expected - looks);
      tally.duplicated += Math.max(0, Math.max(r.looks.counted ?? 0, r.looks.read) - r.looks.expected);
      const kinds = plan.map((k, i) => `${k.kind}@${k.look} ${r.recovery[i]?.toFixed(1) ?? '-'} s`).join(', ');
      tally.notes.push(
        `run ${run} ${verdict}: ${r.result?.decision ?? 'no result'}; kills ${kinds}; looks ${r.looks.counted}` +
          `/${r.looks.read} read/${r.looks.expected} due; last look ${r.verdict.counts} ${r.verdict.taken}` +
          (differences.length ? `; differs from the clean run: ${differences.join('; ')}` : ''),
      );
      if (r.pagerDutyRepeats) tally.notes.push(`${r.pagerDutyRepeats} PagerDuty events repeated under their key`);

      assert.equal(r.result?.decision, verdict, 'the retraining ends as its data decides');
      assert.deepEqual(r.looks, { counted: r.looks.expected, read: r.looks.expected, expected: r.looks.expected });
      assert.deepEqual(
        { verdict: r.verdict.taken, counts: r.verdict.counts },
        { verdict: r.verdict.fromData, counts: r.verdict.dataCounts },
        'the last look read the counts in the database and took their verdict',
      );
      assert.deepEqual(r.effects, clean[verdict].effects, 'every effect lands as often as in the clean run');
      assert.ok(
        (r.effects[`Ingress/ai-ingress-candidate weight set to ${CANARY_WEIGHT}`] ?? 0) === 1,
        'the canary weight set once',
      );
    },
  );
});

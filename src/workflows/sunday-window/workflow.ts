/**
 * WedSync "Sunday Maintenance Window (2:00-4:00 AM GMT)", seed 002, Weekly Maintenance:
 *
 *   1. AI Model Updates: ./scripts/deploy-ai-models.sh production; ./scripts/validate-models.sh
 *   2. Database Maintenance: DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days'
 *      AND status = 'completed'; ANALYZE wedding_optimizations; ANALYZE ai_recommendations; ANALYZE ai_feedback;
 *   3. Cache Optimization: redis-cli --scan --pattern "ai:*" | xargs -L 1000 redis-cli DEL; ./scripts/warm-caches.sh
 *
 * Everything happens inside the window. A step that cannot fit in what is left is not started; one that is
 * running when its share of the window ends stops at a safe point (a batch boundary). The result lists what
 * remains, and the next window does it: the delete resumes where the rows are, the purge starts over.
 * The model update deploys the model the monthly retraining promoted last (model_versions), from its artifacts,
 * and validates it with the evaluation Job (model-update.ts); a model that fails validation is rolled back at once
 * and someone is paged. With no promoted model newer than the one served, the step is skipped and says why.
 *
 * Started by the schedule `wedsync-sunday-maintenance`; by hand:
 *   temporal workflow start --type sundayMaintenanceWindow --task-queue aiops-runbooks --input '{}'
 *   temporal workflow start --type sundayMaintenanceWindow --task-queue aiops-runbooks \
 *     --input '{"windowEnd":"2026-11-29T04:00:00Z","skip":["model-update"]}'
 */
import {
  CancellationScope,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { settle } from '../common/settle';
import { validateModels } from '../common/model-validation';
import { pruneOptimizations } from '../operations/retention/workflow';
import { changes, purgeCacheKeys, waitForRollout } from '../policies';
import { deployPromotedModel, DEPLOYS_PROMOTED_MODEL_PATCH, modelToDeploy } from './model-update';
import {
  parseSundayWindowInput,
  sundayWindowStatusQuery,
  type StepReport,
  type SundayWindowInput,
  type SundayWindowResult,
  type WindowStep,
} from './messages';

const MINUTE = 60_000;
/** The least time each step needs to be worth starting. */
const MIN_TIME: Record<WindowStep, number> = { 'model-update': 30 * MINUTE, database: 10 * MINUTE, cache: 5 * MINUTE };
/** Kept back for the cache warm-up after the purge. */
const WARMUP_RESERVE = 2 * MINUTE;
const WINDOW = 2 * 60 * MINUTE;

/** The time the schedule meant this run to start (a late catch-up run still ends at the window's close). */
function scheduledStart(): number {
  const info = workflowInfo();
  const attr = info.searchAttributes?.TemporalScheduledStartTime?.[0];
  const at = attr === undefined ? NaN : new Date(attr as string | Date).getTime();
  return Number.isNaN(at) ? info.runStartTime.getTime() : at;
}

export async function sundayMaintenanceWindow(rawInput?: SundayWindowInput): Promise<SundayWindowResult> {
  const input = parseSundayWindowInput(rawInput);
  const windowStart = scheduledStart();
  const windowEnd = input.windowEnd ? Date.parse(input.windowEnd) : windowStart + WINDOW;
  const iso = (ms: number) => new Date(ms).toISOString();
  const audit = new AuditTrail();
  const steps: StepReport[] = [];
  let current: WindowStep | undefined;
  setHandler(sundayWindowStatusQuery, () => ({ windowEnd: iso(windowEnd), step: current, steps }));

  const plan = await changes.maintenancePlan();

  /** `nothingToDo`: why the step does not apply this week, which is not a reason to carry it over. */
  const run = async (step: WindowStep, body: () => Promise<Omit<StepReport, 'step'>>, nothingToDo?: string) => {
    current = step;
    const startedMs = Date.now();
    let report: StepReport;
    if (input.skip?.includes(step)) {
      report = { step, status: 'skipped', detail: 'skipped by the input' };
    } else if (nothingToDo) {
      report = { step, status: 'skipped', detail: nothingToDo };
    } else if (windowEnd - startedMs < MIN_TIME[step]) {
      report = {
        step,
        status: 'deferred',
        detail: `${Math.max(0, Math.round((windowEnd - startedMs) / MINUTE))} min left of the window; needs ${MIN_TIME[step] / MINUTE}`,
      };
    } else {
      try {
        report = { step, ...(await body()), startedAt: iso(startedMs), finishedAt: iso(Date.now()) };
      } catch (err) {
        report = {
          step,
          status: 'failed',
          detail: failureText(err),
          startedAt: iso(startedMs),
          finishedAt: iso(Date.now()),
        };
      }
    }
    steps.push(report);
    audit.record({
      step,
      actor: 'workflow',
      action: step,
      outcome: report.status,
      reason: report.detail,
      durationMs: Date.now() - startedMs,
    });
  };

  // 1. Model update, validated, rolled back when it does not hold.
  const rolloutSeconds = () => Math.max(60, Math.min(15 * 60, Math.floor((windowEnd - Date.now()) / 1000) - 5 * 60));
  const restartAll = async () => {
    const stamp = new Date().toISOString();
    for (const deployment of plan.deployments) await changes.rolloutRestart({ deployment, restartedAt: stamp });
    for (const deployment of plan.deployments) await waitForRollout(deployment, rolloutSeconds());
  };
  if (patched(DEPLOYS_PROMOTED_MODEL_PATCH)) {
    // The newest promoted model (model_versions), deployed from its artifacts and judged by the evaluation Job.
    const target: Awaited<ReturnType<typeof modelToDeploy>> = input.skip?.includes('model-update')
      ? {}
      : await modelToDeploy();
    await run('model-update', () => deployPromotedModel(target.deploy!, plan, restartAll), target.nothingToDo);
  } else {
    // Windows started before the patch: the configured AI_MODEL_VERSION, "validated" by the 24-hour accuracy.
    await run(
      'model-update',
      async () => {
        const version = plan.modelVersion!;
        const before = await changes.getConfigMap({ name: plan.modelConfigMap });
        if (before.data['model.version'] === version) return { status: 'done', detail: `already at model ${version}` };
        try {
          await changes.applyConfigMap({
            name: plan.modelConfigMap,
            data: { ...before.data, 'model.version': version },
          });
          await restartAll();
          const { accuracy } = await validateModels(plan.minAccuracy);
          return {
            status: 'done',
            detail: `model ${before.data['model.version'] ?? 'none'} → ${version}; accuracy ${accuracy}`,
          };
        } catch (err) {
          const why = failureText(err);
          // The previous model config goes back and the pods restart on it, even if this workflow is being cancelled.
          await CancellationScope.nonCancellable(async () => {
            await changes.applyConfigMap({ name: plan.modelConfigMap, data: before.data });
            await restartAll();
          });
          return {
            status: 'rolled-back',
            detail: `model ${version} rolled back to ${before.data['model.version'] ?? 'the previous config'}: ${why}`,
          };
        }
      },
      plan.modelVersion ? undefined : 'no model version configured (AI_MODEL_VERSION)',
    );
  }

  // 2. Database maintenance: the delete stops in time to leave the cache its share of the window.
  await run('database', async () => {
    const stopBy = iso(windowEnd - MIN_TIME.cache);
    const { retention, analyze } = await executeChild(pruneOptimizations, {
      workflowId: `${workflowInfo().workflowId}/database`,
      args: [{ stopBy }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
    const detail = `${retention.deleted} rows deleted in ${retention.batches} batches${analyze ? `; analyzed ${analyze.tables.join(', ')}` : ''}`;
    return retention.complete && analyze
      ? { status: 'done', detail }
      : {
          status: 'incomplete',
          detail: `${detail}; stopped at id ${retention.lastKey} of ${retention.endKey} for the window's end`,
        };
  });

  // 3. Cache optimisation: the purge is cancelled at its share's end (it stops between batches), then warm-up.
  await run('cache', async () => {
    let purge: string;
    let complete = true;
    try {
      // The purge heartbeats its cursors; the heartbeat is also how the window's end reaches it.
      const result = await CancellationScope.withTimeout(windowEnd - WARMUP_RESERVE - Date.now(), () =>
        purgeCacheKeys({ pattern: 'ai:*' }),
      );
      purge = `${result.removed} ai:* keys removed`;
    } catch (err) {
      if (!isCancellation(err)) throw err;
      complete = false;
      purge = "purge stopped at the window's end";
    }
    const warmed = await Promise.all(plan.warmupUrls.map((url) => settle(changes.warmCache(url))));
    const ok = warmed.filter((w) => w.state === 'ok').length;
    return {
      status: complete ? 'done' : 'incomplete',
      detail: `${purge}; ${ok}/${plan.warmupUrls.length} caches warmed`,
    };
  });

  current = undefined;
  await audit.flush();
  return {
    windowStart: iso(windowStart),
    windowEnd: iso(windowEnd),
    steps,
    remaining: steps.filter((s) => ['deferred', 'incomplete', 'failed'].includes(s.status)).map((s) => s.step),
    finishedAt: iso(Date.now()),
  };
}

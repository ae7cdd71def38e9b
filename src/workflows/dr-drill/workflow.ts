/**
 * The monthly disaster recovery drill, seed 000 Maintenance Procedures, Monthly Maintenance:
 *
 *   - [ ] Conduct disaster recovery drill
 *
 * made a real drill of seed 002's Disaster Recovery: the recovery run for real, against copies, and timed. It
 * makes (or reuses) a scratch namespace and copies into it what the AI service recovery acts on (the engines'
 * Deployments and the model ConfigMap, read from production and never written there); restores the newest verified
 * database backup into a throwaway database and checks it against its manifest (the restore drill's own steps);
 * runs `recoverAiService` as a child against the scratch namespace and a scratch model folder
 * (drills/<drillId>/models/ in the backup bucket); then cleans up, also when a step failed or the drill was
 * cancelled: the throwaway database dropped, the copies deleted from the scratch namespace (which stays, empty,
 * for next month), the scratch models and the recovery's snapshot of them deleted.
 *
 * Each step is timed by the workflow's clock. The recovery time is the database restore plus the AI recovery (what
 * a real disaster would take; preparing and cleaning up are reported but not counted), measured against the RTO
 * (input `rtoMinutes`, else DR_RTO_MINUTES, 60 by default: the seeds name none). The report is written to
 * drills/<drillId>/report.json, where the monthly checklist reads it; the first tiers of the escalation chain get
 * it as a message when the drill passed and are paged when it failed or missed the RTO. Schedule
 * wedsync-disaster-recovery-drill, or by hand:
 *
 *   temporal workflow start --type disasterRecoveryDrill --task-queue aiops-runbooks --workflow-id dr-drill-2026-11 \
 *     --input '{"rtoMinutes":45,"requestedBy":"oncall"}'
 *   temporal workflow query --workflow-id dr-drill-2026-11 --type status
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { runStampId } from '../common/run-stamp';
import type { DrillStep } from '../../contracts/drills';
import { failureText, FailureType, invalidInput } from '../../contracts/failures';
import { drillModelPrefix } from '../../contracts/recovery';
import { recoverAiService } from '../ai-recovery/workflow';
import type { RecoveryState, StepTiming } from '../ai-recovery/messages';
import { dropThrowaway, restoreAndCheck, throwawayDatabaseName } from '../backup/throwaway';
import { AuditTrail } from '../gates/audit-trail';
import { Pager } from '../gates/pager';
import { changes, probes } from '../policies';
import { drillStatusQuery, parseDrillInput, type DrillInput, type DrillReport, type DrillStatus } from './messages';

/** Who hears of a drill: the first tiers of seed 002's AI System Escalation Chain, as for a real recovery. */
const DRILL_AUDIENCE = { roles: ['ai-ops', 'platform-oncall'] };

/** What a failed recovery reports in its failure's details (ai-recovery/workflow.ts). */
type RecoveryFailureDetails = RecoveryState & { recoveryId?: string; steps?: StepTiming[] };

export async function disasterRecoveryDrill(rawInput?: DrillInput): Promise<DrillReport> {
  const input = parseDrillInput(rawInput);
  const info = workflowInfo();
  const drillId = runStampId().toLowerCase();
  const audit = new AuditTrail();
  const pager = new Pager(`dr-drill-${info.workflowId}`);
  const status: DrillStatus = { drillId, steps: [] };
  setHandler(drillStatusQuery, () => ({ ...status, steps: [...status.steps] }));

  // Production is refused before anything is made: the drill's every change lands in scratch places.
  const plan = await probes.drillPlan();
  const namespace = input.namespace ?? plan.scratchNamespace;
  if (plan.productionNamespaces.includes(namespace))
    throw invalidInput('namespace', `${namespace} is a production namespace; the drill runs in a scratch one`);
  const modelBucket = input.modelBucket ?? plan.backupBucket;
  if (modelBucket === plan.servingBucket)
    throw invalidInput('modelBucket', `${modelBucket} is the serving model bucket; the drill restores elsewhere`);
  const rtoMinutes = input.rtoMinutes ?? plan.rtoMinutes;
  const models = { bucket: modelBucket, prefix: drillModelPrefix(drillId) };
  status.namespace = namespace;
  const startedAt = new Date().toISOString();
  audit.record({
    step: 'dr-drill',
    actor: input.requestedBy,
    action: 'request',
    outcome: 'started',
    details: { drillId, namespace, models, rtoMinutes },
  });

  /** Runs one step, timing it by the workflow's clock, success or not. */
  const timed = async <T>(
    step: string,
    inRecoveryTime: boolean,
    body: () => Promise<T>,
    detail: (r: T) => string,
  ): Promise<T> => {
    status.step = step;
    const at = Date.now();
    const done = (ok: boolean, text: string) =>
      status.steps.push({
        step,
        startedAt: new Date(at).toISOString(),
        durationMs: Date.now() - at,
        ok,
        inRecoveryTime,
        detail: text,
      });
    try {
      const result = await body();
      done(true, detail(result));
      return result;
    } catch (err) {
      done(false, failureText(err));
      throw err;
    }
  };
  /** The AI recovery's own steps, under its step: counted once, in the step that ran them. */
  const recoverySteps = (steps: StepTiming[] = []) =>
    steps.map((s): DrillStep => ({
      step: `recover-ai-service/${s.step}`,
      startedAt: s.startedAt,
      durationMs: s.durationMs,
      ok: true,
      inRecoveryTime: false,
      detail: s.detail,
    }));

  let database: DrillReport['database'];
  let throwaway: string | undefined;
  let recoveryId: string | undefined;
  let modelBackupId: string | undefined;
  let failure: { step: string; reason: string } | undefined;
  let cancelled: unknown;
  const subSteps: DrillStep[] = [];
  try {
    await timed(
      'prepare-namespace',
      false,
      async () => ({
        ...(await changes.ensureScratchNamespace({ namespace })),
        ...(await changes.copyIntoScratch({ namespace })),
      }),
      (r) =>
        `${r.created ? 'made' : 'reused'} ${namespace}; copied deployments ${r.deployments.join(', ')} and ` +
        `ConfigMaps ${r.configMaps.join(', ')} from production`,
    );

    await timed(
      'restore-database',
      true,
      async () => {
        const catalog = await probes.listBackups();
        const chosen = [...catalog.backups].reverse().find((b) => b.complete && b.verification?.ok);
        if (!chosen) {
          throw ApplicationFailure.create({
            type: FailureType.TargetNotFound,
            message: `no verified backup of ${catalog.database} to restore`,
            nonRetryable: true,
          });
        }
        throwaway = throwawayDatabaseName(chosen.backupId);
        const restored = await restoreAndCheck(chosen.backupId, throwaway);
        database = { name: throwaway, backupId: chosen.backupId, tables: restored.tables, rows: restored.rows };
        if (!restored.ok) {
          throw ApplicationFailure.create({
            type: FailureType.BackupVerificationFailed,
            message: `backup ${chosen.backupId} did not restore as its manifest says: ${restored.problems.join('; ')}`,
            nonRetryable: true,
          });
        }
        return restored;
      },
      (r) =>
        `backup ${database!.backupId} restored into ${throwaway}: ${r.tables} tables, ${r.rows} rows as the manifest says`,
    );

    const recovery = await timed(
      'recover-ai-service',
      true,
      () =>
        executeChild(recoverAiService, {
          workflowId: `${info.workflowId}-recovery`,
          args: [
            {
              requestedBy: `dr-drill ${drillId}`,
              reason: 'monthly disaster recovery drill',
              rolloutTimeoutSeconds: input.rolloutTimeoutSeconds,
              target: { namespace, models },
            },
          ],
        }),
      (r) => `models of backup ${r.backupId} recovered into ${models.prefix}; engines restarted in ${namespace}`,
    );
    recoveryId = recovery.recoveryId;
    modelBackupId = recovery.backupId;
    subSteps.push(...recoverySteps(recovery.steps));
  } catch (err) {
    failure = { step: status.step ?? 'start', reason: failureText(err) };
    if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) {
      const details = err.cause.details?.[0] as RecoveryFailureDetails | undefined;
      if (details) {
        recoveryId = details.recoveryId;
        modelBackupId = (details as { backupId?: string }).backupId;
        subSteps.push(...recoverySteps(details.steps));
        if (details.failedStep) failure.step = `recover-ai-service/${details.failedStep}`;
      }
    }
    // A recovery cancelled with the drill puts things back and fails as RecoveryFailed: still the drill's cancel.
    if (isCancellation(err)) cancelled = err;
    else if (CancellationScope.current().consideredCancelled) cancelled = new CancelledFailure('drill cancelled');
  }

  // Cleanup runs whatever happened above, a cancelled drill included.
  const leftovers: string[] = [];
  await CancellationScope.nonCancellable(async () => {
    status.step = 'cleanup';
    const at = Date.now();
    const removed: string[] = [];
    if (throwaway) {
      const notDropped = await dropThrowaway(throwaway);
      if (notDropped) leftovers.push(notDropped);
      else removed.push(`database ${throwaway}`);
    }
    try {
      const cleaned = await changes.cleanScratchNamespace({ namespace });
      removed.push(...cleaned.deleted.map((d) => `${namespace}/${d}`));
    } catch (err) {
      leftovers.push(`objects in ${namespace}: ${failureText(err)}`);
    }
    try {
      const deleted = await changes.deleteDrillModels({ drillId, ...(recoveryId !== undefined ? { recoveryId } : {}) });
      removed.push(`${deleted.deletedObjects} scratch model objects`);
    } catch (err) {
      leftovers.push(`scratch models ${models.prefix}: ${failureText(err)}`);
    }
    status.steps.push({
      step: 'cleanup',
      startedAt: new Date(at).toISOString(),
      durationMs: Date.now() - at,
      ok: leftovers.length === 0,
      inRecoveryTime: false,
      detail: leftovers.length ? `NOT removed: ${leftovers.join('; ')}` : `removed ${removed.join(', ')}`,
    });
  });

  const steps = [...status.steps, ...subSteps];
  const recoveryMs = steps.filter((s) => s.inRecoveryTime).reduce((n, s) => n + s.durationMs, 0);
  const withinRto = recoveryMs <= rtoMinutes * 60_000;
  const passed = !failure && withinRto;
  const report: DrillReport = {
    drillId,
    workflowId: info.workflowId,
    namespace,
    database,
    models: { ...models, backupId: modelBackupId },
    startedAt,
    finishedAt: new Date().toISOString(),
    steps,
    recoveryMs,
    rtoMinutes,
    withinRto,
    passed,
    ...(failure && { failedStep: failure.step, reason: failure.reason }),
    leftovers,
  };
  status.step = undefined;

  const minutes = (recoveryMs / 60_000).toFixed(1);
  const summary = cancelled
    ? `cancelled at ${failure?.step ?? 'start'}`
    : failure
      ? `FAILED at ${failure.step}: ${failure.reason}`
      : withinRto
        ? `passed: recovered in ${minutes} min, within the ${rtoMinutes} min RTO`
        : `MISSED the RTO: recovered in ${minutes} min, over the ${rtoMinutes} min RTO`;
  const timings = steps.map((s) => `${s.step} ${(s.durationMs / 1000).toFixed(1)} s${s.ok ? '' : ' (failed)'}`);
  const message =
    `[dr-drill] disaster recovery drill ${drillId} ${summary}. Steps: ${timings.join(', ')}` +
    `${leftovers.length ? `. NOT cleaned up: ${leftovers.join('; ')}` : ''} (workflow ${info.workflowId})`;
  await CancellationScope.nonCancellable(async () => {
    let recorded = true;
    try {
      await changes.recordDrill(report);
    } catch (err) {
      recorded = false;
      leftovers.push(`report not recorded: ${failureText(err)}`);
    }
    // A drill an operator cancelled is not an alarm, unless it could not clean up after itself.
    const alarming = (!passed && !cancelled) || leftovers.length > 0;
    const failed = await pager.tell({
      audience: DRILL_AUDIENCE,
      urgency: alarming ? 'page' : 'message',
      severity: alarming ? 'critical' : 'info',
      dedupKey: pager.dedupKey,
      message: recorded ? message : `${message}. The report could not be recorded: ${leftovers[leftovers.length - 1]}`,
    });
    audit.record({
      step: 'dr-drill',
      actor: 'workflow',
      action: 'drill',
      outcome: passed ? 'passed' : cancelled ? 'cancelled' : failure ? 'failed' : 'missed-rto',
      reason: summary,
      durationMs: recoveryMs,
      details: { drillId, rtoMinutes, failedStep: failure?.step, leftovers, notified: failed.length === 0 },
    });
    await audit.flush();
  });

  if (cancelled) throw cancelled;
  if (!passed) {
    throw ApplicationFailure.create({
      type: FailureType.DrillFailed,
      message: `disaster recovery drill ${summary}`,
      details: [report],
      nonRetryable: true,
    });
  }
  return report;
}

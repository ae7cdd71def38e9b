/**
 * WedSync AI service recovery, seed 002 "Recovery and Failover":
 *
 *   AI Service Recovery:
 *   1. Restore models from last known good backup
 *   2. Apply model configuration (kubectl apply -f model-config.yaml)
 *   3. Restart AI services (kubectl rollout restart deployment/ai-optimization-engine, .../ai-recommendation-engine)
 *   4. Validate (health and accuracy)
 *
 * A saga: before each step changes anything, its undo is registered, and a failure at any point runs the undos
 * registered so far, newest first, outside cancellation (a cancelled recovery still puts things back). The serving
 * models are first copied to recovery/<recoveryId>/ in the backup bucket so that they can be put back. The
 * engines' restart is undone last of all (a restart on the models and ConfigMap that are back), so its undo is
 * registered first, and runs only when a restart was begun. Whatever happens, the failure says exactly which steps
 * ran and which undos did not, and the first tiers of the AI escalation chain are paged with it.
 *
 * With `target` (the disaster recovery drill's), every step acts on a scratch namespace and a scratch model folder
 * instead of production (which is refused as a target), validation checks the folder against the backup's manifest
 * (nothing serves from it), and the recovery tells no one: the drill reports.
 *
 *   temporal workflow start --type recoverAiService --task-queue aiops-runbooks --workflow-id ai-recovery-1 \
 *     --input '{"requestedBy":"oncall","reason":"models corrupted by a bad deploy"}'
 */
import { ApplicationFailure, CancellationScope, setHandler, workflowInfo } from '@temporalio/workflow';
import { runStampId } from '../common/run-stamp';
import { failureText, FailureType, invalidInput } from '../../contracts/failures';
import { recoverySnapshotPrefix } from '../../contracts/recovery';
import { validateModels } from '../common/model-validation';
import { AuditTrail } from '../gates/audit-trail';
import { Pager } from '../gates/pager';
import { changes, probes, restoreModels, snapshotServingModels, waitForRollout } from '../policies';
import {
  parseRecoverAiServiceInput,
  recoveryStatusQuery,
  type RecoverAiServiceInput,
  type RecoverAiServiceResult,
  type RecoveryState,
  type RecoveryStatus,
  type RecoveryStep,
} from './messages';

/** Who hears of a recovery that failed: the first tiers of seed 002's AI System Escalation Chain. */
const RECOVERY_AUDIENCE = { roles: ['ai-ops', 'platform-oncall'] };

interface Compensation {
  step: string;
  /** Resolves false when there was nothing to undo. */
  undo: () => Promise<boolean>;
}

export async function recoverAiService(rawInput?: RecoverAiServiceInput): Promise<RecoverAiServiceResult> {
  const input = parseRecoverAiServiceInput(rawInput);
  const info = workflowInfo();
  const recoveryId = runStampId().toLowerCase();
  const audit = new AuditTrail();
  const pager = new Pager(`ai-recovery-${info.workflowId}`);
  const state: RecoveryState = { completed: [], undone: [], notUndone: [], outcome: 'recovered' };
  const status: RecoveryStatus = { ...state, steps: [] };
  setHandler(recoveryStatusQuery, () => ({ ...status, ...state, steps: [...status.steps] }));
  const compensations: Compensation[] = [];
  const started = Date.now();
  // A drill's target: the namespace and model folder every step acts on instead of production's.
  const target = input.target;
  const ns = target ? { namespace: target.namespace } : {};
  const models = target ? { target: target.models } : {};

  /** Runs one step, timing it: the drill reads these times as the recovery time, step by step. */
  const step = async <T>(name: RecoveryStep, body: () => Promise<T>, detail?: (r: T) => string): Promise<T> => {
    status.step = name;
    const at = Date.now();
    const result = await body();
    status.steps.push({
      step: name,
      startedAt: new Date(at).toISOString(),
      durationMs: Date.now() - at,
      detail: detail?.(result),
    });
    state.completed.push(name);
    audit.record({
      step: name,
      actor: input.requestedBy,
      action: 'recover-ai-service',
      outcome: 'done',
      durationMs: Date.now() - at,
      reason: detail?.(result),
    });
    return result;
  };

  if (target) {
    const drill = await probes.drillPlan();
    if (drill.productionNamespaces.includes(target.namespace))
      throw invalidInput(
        'target.namespace',
        `${target.namespace} is a production namespace; a drill needs a scratch one`,
      );
    if ((target.models.bucket ?? drill.backupBucket) === drill.servingBucket)
      throw invalidInput('target.models.bucket', `${drill.servingBucket} is the serving model bucket`);
  }
  const plan = await changes.maintenancePlan();
  const backup = await probes.findModelBackup({ backupId: input.backupId });
  status.backupId = backup.backupId;
  audit.record({
    step: 'recover-ai-service',
    actor: input.requestedBy,
    action: 'request',
    outcome: 'started',
    reason: input.reason,
    details: { backupId: backup.backupId, models: backup.count, createdAt: backup.createdAt },
  });

  let accuracy = 0;
  let restarted = false;
  try {
    // Read before anything changes: these are what the undos put back.
    const configBefore = backup.configMap ? await probes.getConfigMap({ name: plan.modelConfigMap, ...ns }) : undefined;
    const snapshot = await step(
      'snapshot',
      () => snapshotServingModels({ recoveryId, ...models }),
      (s) => `${s.count} serving models kept in ${s.prefix}`,
    );

    // Undone last: the engines restarted again once the models and ConfigMap they had are back.
    compensations.push({
      step: 'restart-engines',
      undo: async () => {
        if (!restarted) return false;
        await restartEngines(plan.deployments, input.rolloutTimeoutSeconds, target?.namespace);
        return true;
      },
    });

    compensations.push({
      step: 'restore-models',
      undo: async () => Boolean(await restoreModels({ fromPrefix: recoverySnapshotPrefix(recoveryId), ...models })),
    });
    const placed = await step(
      'restore-models',
      () => restoreModels({ fromPrefix: backup.prefix, ...models }),
      (p) => `${p.count} models from backup ${backup.backupId} (${p.copied} copied, ${p.deleted} removed)`,
    );

    if (backup.configMap && configBefore) {
      const previous = configBefore.data;
      compensations.push({
        step: 'apply-config',
        undo: async () => Boolean(await changes.applyConfigMap({ name: plan.modelConfigMap, data: previous, ...ns })),
      });
      const data = backup.configMap.data;
      await step(
        'apply-config',
        () => changes.applyConfigMap({ name: plan.modelConfigMap, data, ...ns }),
        () => `ConfigMap ${plan.modelConfigMap} as backed up (model.version ${data['model.version'] ?? 'unset'})`,
      );
    }

    await step(
      'restart-engines',
      async () => {
        restarted = true;
        await restartEngines(plan.deployments, input.rolloutTimeoutSeconds, target?.namespace);
      },
      () => `${plan.deployments.join(', ')} restarted and rolled out`,
    );

    if (target) {
      // Nothing serves from a drill's folder: what can be validated is that it holds exactly the backup's models.
      await step(
        'validate',
        () => probes.checkRestoredModels({ backupId: backup.backupId, target: target.models }),
        (c) => `${c.count} models in ${target.models.prefix} match backup ${backup.backupId}`,
      );
    } else {
      const validated = await step(
        'validate',
        () => validateModels(plan.minAccuracy),
        (v) => `${v.endpoints} health endpoints healthy; accuracy ${v.accuracy} ≥ ${plan.minAccuracy}`,
      );
      accuracy = validated.accuracy;
    }

    status.step = undefined;
    if (!target)
      await pager.tell({
        audience: RECOVERY_AUDIENCE,
        urgency: 'message',
        severity: 'info',
        dedupKey: pager.dedupKey,
        message: `[ai-recovery] AI service recovered from model backup ${backup.backupId}: ${placed.count} models, accuracy ${accuracy} (workflow ${info.workflowId})`,
      });
    await audit.flush();
    return {
      recoveryId,
      backupId: backup.backupId,
      snapshotPrefix: snapshot.prefix,
      models: placed.count,
      ...(!target && { accuracy }),
      steps: status.steps,
      totalMs: Date.now() - started,
    };
  } catch (err) {
    state.failedStep = status.step === 'compensating' ? undefined : status.step;
    state.reason = failureText(err);
    status.step = 'compensating';
    await CancellationScope.nonCancellable(async () => {
      for (const c of [...compensations].reverse()) {
        try {
          if (!(await c.undo())) continue;
          state.undone.push(c.step);
          audit.record({ step: c.step, actor: 'workflow', action: 'compensate', outcome: 'undone' });
        } catch (undoErr) {
          // The other undos still run: the more is put back, the less a person has to.
          state.notUndone.push({ step: c.step, error: failureText(undoErr) });
          audit.record({
            step: c.step,
            actor: 'workflow',
            action: 'compensate',
            outcome: 'failed',
            reason: failureText(undoErr),
          });
        }
      }
      state.outcome = state.notUndone.length ? 'changed' : 'as-before';
      const where =
        state.outcome === 'as-before'
          ? `everything it changed was put back (${state.undone.join(', ') || 'nothing had changed'})`
          : `NOT put back: ${state.notUndone.map((n) => `${n.step} (${n.error})`).join('; ')}; put back: ${state.undone.join(', ') || 'nothing'}`;
      const message =
        `[ai-recovery] recovery from model backup ${backup.backupId} failed at ${state.failedStep ?? 'start'}: ` +
        `${state.reason}. Steps done: ${state.completed.join(', ') || 'none'}; ${where}. ` +
        `Pre-recovery models: ${recoverySnapshotPrefix(recoveryId)} (workflow ${info.workflowId})`;
      // A drill's recovery pages no one itself: the drill reports the failure with its own report.
      const failed = target
        ? []
        : await pager.tell({
            audience: RECOVERY_AUDIENCE,
            urgency: 'page',
            severity: 'critical',
            dedupKey: pager.dedupKey,
            message,
          });
      audit.record({
        step: 'recover-ai-service',
        actor: 'workflow',
        action: 'page',
        outcome: state.outcome,
        reason: message,
        details: { failed, notUndone: state.notUndone },
      });
      await audit.flush();
    });
    throw ApplicationFailure.create({
      type: FailureType.RecoveryFailed,
      message: `AI service recovery failed at ${state.failedStep ?? 'start'}: ${state.reason}; ${
        state.outcome === 'as-before'
          ? 'every change was put back'
          : `not put back: ${state.notUndone.map((n) => n.step).join(', ')}`
      }`,
      details: [{ ...state, backupId: backup.backupId, recoveryId, steps: status.steps }],
      nonRetryable: true,
    });
  }
}

/** `kubectl rollout restart` of every engine, one stamp for all, then `rollout status` of each. */
async function restartEngines(deployments: string[], timeoutSeconds: number, namespace?: string): Promise<void> {
  // A fixed stamp per call: a retried restart writes the same annotation and starts no second rollout.
  const restartedAt = new Date().toISOString();
  const ns = namespace !== undefined ? { namespace } : {};
  for (const deployment of deployments) await changes.rolloutRestart({ deployment, restartedAt, ...ns });
  for (const deployment of deployments) await waitForRollout(deployment, timeoutSeconds, namespace);
}

/**
 * WedSync "Model Retraining (First Saturday of each month)", seed 002, Monthly Maintenance:
 *
 *   1. Data Preparation: python scripts/extract_training_data.py --month=$(date +%Y-%m);
 *      python scripts/validate_training_data.py
 *   2. Model Training: python ai_models/train_optimization_model.py; python ai_models/train_recommendation_model.py;
 *      python ai_models/validate_models.py
 *   3. A/B Testing Setup: ./scripts/deploy-models.sh staging; ./scripts/setup-ab-test.sh --model-version=v2.1
 *
 * and Issue 2 (Low Recommendation Accuracy), "if performance.accuracy < 0.85: trigger_model_retraining()".
 *
 * The extract streams into S3 with a manifest; a data-quality report above the threshold waits for a person; both
 * models train as Kubernetes Jobs and an evaluation Job writes their metrics, which must reach the accuracy floor
 * and stay within the margin of production's. The candidate then runs beside production behind an NGINX canary
 * weight, first with no traffic (staging: rolled out, health endpoints healthy), then with its share; every
 * interval acceptance per model version is read from ai_feedback and a sequential test decides
 * (src/contracts/sequential-test.ts): significantly worse, or the error-rate guard tripped, rolls back at once;
 * significantly better opens the promotion gate; neither by the maximum duration keeps the current model. Every
 * outcome goes to the audit log and model_versions, and people are told. Whatever ends the run (a decision, a
 * failure, a cancellation), the candidate Deployment and the canary weight are removed; a cancellation, at whatever
 * stage, also deletes the run's Jobs (CANCEL_REMOVES_JOBS_PATCH).
 *
 * One run per month: the workflow ID is `model-retraining-YYYY-MM`. Started under another ID (the schedule's
 * runs carry their slot time), it starts the month's run as a child and returns.
 *
 *   temporal workflow start --type modelRetraining --task-queue aiops-runbooks \
 *     --workflow-id model-retraining-2026-12 --input '{"requestedBy":"ai-lead","reason":"accuracy 0.83"}'
 *   temporal workflow query --workflow-id model-retraining-2026-12 --type status
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  ParentClosePolicy,
  patched,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { failureText, FailureType, isAlreadyStarted } from '../../contracts/failures';
import { isHealthyProbe } from '../../contracts/health';
import {
  candidateName,
  retrainingPrefix,
  type ModelDecision,
  type ModelMetrics,
  type RetrainingPlan,
} from '../../contracts/retraining';
import { DEFAULT_SEQUENTIAL, sequentialLook, type SequentialLook } from '../../contracts/sequential-test';
import { accuracyShortfall, modelJob } from '../common/model-validation';
import { settle } from '../common/settle';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { changes, extractTrainingData, loadDirectory, probes, waitForJob, waitForRollout } from '../policies';
import {
  monthOf,
  parseRetrainingInput,
  retrainingStatusQuery,
  retrainingWorkflowId,
  type RetrainingInput,
  type RetrainingResult,
  type RetrainingStatus,
} from './messages';
import { thisRunPiece } from '../common/run-stamp';

const DAY = 24 * 3_600_000;
const ROLLOUT_SECONDS = 15 * 60;
const MODELS = ['optimization', 'recommendation'] as const;

/**
 * Runs started before it left the training and evaluation Jobs behind when cancelled; from it a cancellation
 * deletes every Job the run created, whatever its state, so nothing of a cancelled run goes on in the cluster.
 */
export const CANCEL_REMOVES_JOBS_PATCH = 'retraining-cancel-removes-jobs';

/**
 * Starts this month's run unless one is running (the server refuses a second start of a running ID). Used by the
 * schedule's runs and by the accuracy watch; the run must outlive whoever started it, so it is abandoned.
 */
export async function startMonthlyRetraining(
  input: RetrainingInput,
): Promise<{ launched: string; outcome: 'started' | 'already-running' }> {
  const launched = retrainingWorkflowId(monthOf(Date.now()));
  try {
    await startChild('modelRetraining', {
      workflowId: launched,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { launched, outcome: 'started' };
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
    return { launched, outcome: 'already-running' };
  }
}

/** A decision that ends the run early, with the reason; caught once, where the run is recorded. */
class Decided extends Error {
  constructor(
    readonly decision: ModelDecision,
    readonly reason: string,
    readonly by = 'workflow',
  ) {
    super(reason);
  }
}

export async function modelRetraining(rawInput?: RetrainingInput): Promise<RetrainingResult> {
  const input = parseRetrainingInput(rawInput);
  const info = workflowInfo();
  const startedMs = Date.now();
  const month = monthOf(startedMs);
  if (info.workflowId !== retrainingWorkflowId(month)) return startMonthlyRetraining(rawInput ?? {});

  const version = `${month}-${thisRunPiece()}`;
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, info.workflowId);
  const status: RetrainingStatus = { stage: 'planning', month, version, artifactsUri: '', gates: [] };
  setHandler(retrainingStatusQuery, () => ({ ...status, gates: gates.status() }));
  const enter = (stage: RetrainingStatus['stage']) => {
    status.stage = stage;
    audit.record({ step: stage, actor: 'workflow', action: 'stage', outcome: 'started' });
  };

  const plan: RetrainingPlan = await probes.retrainingPlan();
  const prefix = retrainingPrefix(version);
  status.artifactsUri = `s3://${plan.modelsBucket}/${prefix}`;
  const from = input.from ?? new Date(startedMs - 30 * DAY).toISOString();
  const to = input.to ?? new Date(startedMs).toISOString();
  audit.record({
    step: 'retraining',
    actor: input.requestedBy ?? 'schedule',
    action: 'start',
    outcome: 'started',
    reason: input.reason,
    details: { version, from, to },
  });
  gates.setRoster((await loadDirectory()).members);

  let decidedBy = 'workflow';
  let candidateUp = false;
  const removeCandidate = async () => {
    if (!candidateUp) return;
    // Runs to the end even when the workflow is being cancelled: no candidate or weight may stay behind.
    await CancellationScope.nonCancellable(() => changes.removeCandidate({ deployment: plan.deployment }));
    candidateUp = false;
    audit.record({ step: 'candidate', actor: 'workflow', action: 'remove-candidate', outcome: 'removed' });
  };
  /** Every Job of this run, named before it is created: a cancellation during the create still finds it. */
  const jobsCreated: string[] = [];
  const removeJobs = async () => {
    for (const name of jobsCreated) await changes.deleteJob({ name });
    if (jobsCreated.length) {
      audit.record({
        step: 'jobs',
        actor: 'workflow',
        action: 'delete-jobs',
        outcome: 'removed',
        details: { jobs: [...jobsCreated] },
      });
    }
  };

  try {
    enter('extract');
    status.manifest = await extractTrainingData({ version, from, to });

    enter('data-quality');
    const quality = await probes.trainingDataQuality({ from, to });
    status.quality = quality;
    if (quality.badRatio > plan.qualityMaxBadRatio) {
      const outcome = await gates.wait({
        name: 'training-data-quality',
        prompt:
          `Training data ${from} to ${to} for model ${version}: ${quality.problems.join('; ')} (worst share ` +
          `${quality.badRatio}, threshold ${plan.qualityMaxBadRatio}). Approve to train on it anyway.`,
        deciders: { roles: ['ai-team-lead'] },
        tierTimeoutMs: DAY,
        escalation: [{ roles: ['cto'] }],
        onExhausted: 'abort',
      });
      if (outcome.decision !== 'approve') {
        throw new Decided('rejected', `training data refused at the quality gate: ${outcome.reason}`, outcome.by);
      }
    }

    enter('train');
    const dataUri = `s3://${plan.modelsBucket}/${status.manifest.key}`;
    const job = (name: string, script: string, args: string[]) =>
      modelJob(plan, `retrain-${version}-${name}`, version, script, args);
    const training = MODELS.map((model) =>
      job(model, `ai_models/train_${model}_model.py`, [
        '--data',
        dataUri,
        '--output',
        `${status.artifactsUri}models/${model}/`,
      ]),
    );
    for (const spec of training) {
      jobsCreated.push(spec.name);
      await changes.runJob(spec);
    }
    await Promise.all(training.map((spec) => waitForJob(spec.name, plan.jobTimeoutSeconds)));

    enter('evaluate');
    const metricsKey = `${prefix}evaluation/metrics.json`;
    const evaluation = job('evaluate', 'ai_models/validate_models.py', [
      '--models',
      `${status.artifactsUri}models/`,
      '--data',
      dataUri,
      '--metrics',
      `s3://${plan.modelsBucket}/${metricsKey}`,
    ]);
    jobsCreated.push(evaluation.name);
    await changes.runJob(evaluation);
    await waitForJob(evaluation.name, plan.jobTimeoutSeconds);
    const metrics: ModelMetrics = await probes.readModelMetrics({ key: metricsKey });
    status.metrics = metrics;
    const modelConfig = await probes.getConfigMap({ name: plan.modelConfigMap });
    const productionVersion = modelConfig.data['model.version'];
    if (!productionVersion) {
      throw ApplicationFailure.create({
        type: FailureType.TargetNotFound,
        message: `ConfigMap ${plan.modelConfigMap} names no model.version: nothing to compare the candidate with`,
        nonRetryable: true,
      });
    }
    const production = await probes.modelVersion({ version: productionVersion });
    status.productionMetrics = production?.metrics;
    const shortfall = accuracyShortfall(plan, metrics.accuracy, production?.metrics);
    if (shortfall) throw new Decided('rejected', shortfall);

    enter('staging');
    candidateUp = true; // registered before the step it undoes: a cancellation during the create still cleans up
    await changes.deployCandidate({ deployment: plan.deployment, version, artifactsUri: status.artifactsUri });
    await changes.setCanaryWeight({ deployment: plan.deployment, weight: 0 });
    await waitForRollout(candidateName(plan.deployment), ROLLOUT_SECONDS);
    const urls = await probes.listHealthEndpoints();
    const health = await Promise.all(urls.map((url) => settle(probes.probeHealth(url))));
    const unhealthy = health.filter((h) => !(h.state === 'ok' && isHealthyProbe(h.result))).length;
    if (unhealthy > 0)
      throw new Decided('rejected', `smoke test: ${unhealthy} of ${urls.length} health endpoints unhealthy`);

    enter('ab-test');
    const verdict = await abTest(plan, productionVersion, version, status);
    if (verdict.verdict === 'candidate-worse') {
      enter('roll-back');
      throw new Decided('rolled-back', verdict.reason);
    }
    if (verdict.verdict === 'continue') {
      throw new Decided('kept-current', `no significant difference by the end of the A/B test: ${verdict.reason}`);
    }

    enter('promotion-gate');
    const last = status.ab!.last!;
    const outcome = await gates.wait({
      name: 'promote-model',
      prompt:
        `Promote model ${version} over ${productionVersion}? Acceptance ${last.candidate.rate} ` +
        `(${last.candidate.successes}/${last.candidate.trials}) vs ${last.control.rate} ` +
        `(${last.control.successes}/${last.control.trials}); z ${last.z} beyond the boundary ${last.zBoundary} ` +
        `(alpha ${plan.alpha}, always-valid p ${last.alwaysValidP}); accuracy ${metrics.accuracy}. ` +
        'Nobody deciding keeps the current model.',
      deciders: { roles: ['ai-team-lead'] },
      tierTimeoutMs: DAY,
      escalation: [{ roles: ['cto'] }],
      onExhausted: 'abort',
    });
    decidedBy = outcome.by;
    if (outcome.decision !== 'approve') {
      throw new Decided(
        'kept-current',
        outcome.byDefault ? 'nobody decided at the promotion gate' : `refused: ${outcome.reason}`,
        outcome.by,
      );
    }

    enter('promote');
    await changes.applyConfigMap({
      name: plan.modelConfigMap,
      data: { ...modelConfig.data, 'model.version': version, 'model.uri': status.artifactsUri },
    });
    const restartedAt = new Date().toISOString();
    await changes.rolloutRestart({ deployment: plan.deployment, restartedAt });
    await waitForRollout(plan.deployment, ROLLOUT_SECONDS);
    status.decision = 'promoted';
    status.reason = `promoted by ${outcome.by}: ${outcome.reason}`;
  } catch (err) {
    if (err instanceof Decided) {
      status.decision = err.decision;
      status.reason = err.reason;
      decidedBy = err.by;
    } else {
      const cancelled = isCancellation(err);
      status.decision = cancelled ? 'cancelled' : 'rejected';
      status.reason = cancelled ? 'the run was cancelled' : `failed at ${status.stage}: ${failureText(err)}`;
      await CancellationScope.nonCancellable(async () => {
        await removeCandidate();
        if (cancelled && patched(CANCEL_REMOVES_JOBS_PATCH)) await removeJobs();
        await finish(status, decidedBy, audit, gates);
      });
      throw err;
    }
  }
  await removeCandidate();
  await finish(status, decidedBy, audit, gates);
  status.stage = 'done';
  const { gates: _open, decision, ...rest } = { ...status, gates: [] };
  return { ...rest, decision: decision!, decidedBy, finishedAt: new Date().toISOString() };
}

/** The record in model_versions and the audit log, and the message to the AI team. */
async function finish(status: RetrainingStatus, decidedBy: string, audit: AuditTrail, gates: Gatekeeper) {
  const decision = status.decision!;
  await probes.recordModelVersion({
    version: status.version,
    workflowId: workflowInfo().workflowId,
    artifactsUri: status.artifactsUri,
    dataManifest: status.manifest,
    metrics: status.metrics,
    evidence: { quality: status.quality, productionMetrics: status.productionMetrics, ab: status.ab },
    decision,
    decidedBy,
    reason: status.reason,
    decidedAt: new Date().toISOString(),
  });
  audit.record({
    step: 'retraining',
    actor: decidedBy,
    action: 'decision',
    outcome: decision,
    reason: status.reason,
    details: { version: status.version, ab: status.ab?.last, metrics: status.metrics },
  });
  const problems = await gates.pager.tell({
    audience: { roles: ['ai-team-lead', 'ai-ops'] },
    message: `Model retraining ${status.month}: model ${status.version} ${decision}. ${status.reason ?? ''}`.trim(),
    urgency: decision === 'rolled-back' ? 'page' : 'message',
    dedupKey: `${workflowInfo().workflowId}/decision`,
    severity: decision === 'rolled-back' ? 'warning' : 'info',
  });
  if (problems.length) {
    audit.record({
      step: 'notify',
      actor: 'workflow',
      action: 'notify',
      outcome: 'failed',
      reason: problems.join('; '),
    });
  }
  await gates.settled();
  await audit.flush();
}

/**
 * The A/B test: the candidate takes its weight, then every interval the counts since then are read and the
 * sequential rule looks at them, until it decides, the error-rate guard trips, or the maximum duration passes.
 */
async function abTest(
  plan: RetrainingPlan,
  productionVersion: string,
  candidateVersion: string,
  status: RetrainingStatus,
): Promise<Pick<SequentialLook, 'verdict' | 'reason'>> {
  const since = await probes.databaseNow();
  await changes.setCanaryWeight({ deployment: plan.deployment, weight: plan.canaryWeight });
  const intervalMs = plan.abIntervalMinutes * 60_000;
  const endsAtMs = Date.now() + plan.abMaxDays * DAY;
  const settings = { ...DEFAULT_SEQUENTIAL, alpha: plan.alpha, minPerArm: plan.minPerArm };
  const ab: RetrainingStatus['ab'] = {
    productionVersion,
    candidateVersion,
    weight: plan.canaryWeight,
    since,
    looks: 0,
    endsAt: new Date(endsAtMs).toISOString(),
    nextDecision: 'continue: no feedback counted yet',
  };
  status.ab = ab;
  for (;;) {
    const wait = Math.min(intervalMs, endsAtMs - Date.now());
    ab.nextLookAt = new Date(Date.now() + wait).toISOString();
    if (wait > 0) await sleep(wait);
    const [counts, daily] = await Promise.all([
      probes.acceptanceByVersion({ versions: [productionVersion, candidateVersion], since }),
      settle(probes.fetchDailyMetrics()),
    ]);
    const look = sequentialLook(counts[0], counts[1], settings);
    ab.looks += 1;
    ab.last = look;
    ab.nextDecision = `${look.verdict}: ${look.reason}`;
    ab.errorRate = daily.state === 'ok' ? daily.result.errorRate : undefined;
    if (ab.errorRate !== undefined && ab.errorRate > plan.errorRateMax) {
      return {
        verdict: 'candidate-worse',
        reason: `error-rate guard: ${ab.errorRate} is above ${plan.errorRateMax} with the candidate taking traffic`,
      };
    }
    if (look.verdict !== 'continue') return look;
    if (Date.now() >= endsAtMs) return look;
  }
}

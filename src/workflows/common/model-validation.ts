/**
 * Whether the AI service serves a model worth keeping (seed 002 `./scripts/validate-models.sh`): every configured
 * health endpoint healthy, and the accuracy the service reports at least the configured minimum. The AI service
 * recovery asks here. A model about to serve is judged by the evaluation Job instead (seed 002
 * `python ai_models/validate_models.py`): the retraining's candidate and the Sunday window's deployment alike.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../contracts/failures';
import { isHealthyProbe } from '../../contracts/health';
import type { ModelMetrics, RetrainingPlan } from '../../contracts/retraining';
import { changes, probes, waitForJob } from '../policies';
import { settle } from './settle';

/** How many of the configured health endpoints are not healthy, of how many. */
export async function unhealthyEndpoints(): Promise<{ unhealthy: number; total: number }> {
  const urls = await probes.listHealthEndpoints();
  const health = await Promise.all(urls.map((url) => settle(probes.probeHealth(url))));
  return {
    unhealthy: health.filter((h) => !(h.state === 'ok' && isHealthyProbe(h.result))).length,
    total: urls.length,
  };
}

/** Throws ValidationFailed saying what fell short; returns the accuracy that passed. */
export async function validateModels(minAccuracy: number): Promise<{ accuracy: number; endpoints: number }> {
  const { unhealthy, total } = await unhealthyEndpoints();
  const metrics = await probes.fetchDailyMetrics();
  if (unhealthy > 0)
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: `${unhealthy} of ${total} health endpoints not healthy`,
    });
  if (metrics.accuracyRate === undefined || metrics.accuracyRate < minAccuracy) {
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: `accuracy ${metrics.accuracyRate ?? 'unknown'} is below ${minAccuracy}`,
    });
  }
  return { accuracy: metrics.accuracyRate, endpoints: total };
}

/** A training or evaluation run as a Kubernetes Job, with the retraining's image, resources and deadline. */
export function modelJob(plan: RetrainingPlan, name: string, version: string, script: string, args: string[]) {
  return {
    name: name.toLowerCase(),
    image: plan.image,
    command: ['python', script],
    args,
    env: { MODEL_VERSION: version },
    cpu: plan.cpu,
    memory: plan.memory,
    activeDeadlineSeconds: plan.jobTimeoutSeconds,
  };
}

/**
 * Why an evaluated accuracy is not good enough, or undefined when it is: it must reach the floor
 * (MODEL_MIN_ACCURACY) and trail production's by no more than the margin (RETRAIN_MAX_ACCURACY_DROP).
 */
export function accuracyShortfall(
  plan: Pick<RetrainingPlan, 'minAccuracy' | 'maxAccuracyDrop'>,
  accuracy: number,
  production?: ModelMetrics,
): string | undefined {
  const floor = Math.max(plan.minAccuracy, (production?.accuracy ?? 0) - plan.maxAccuracyDrop);
  if (accuracy >= floor) return undefined;
  return (
    `accuracy ${accuracy} is below ${floor} (floor ${plan.minAccuracy}` +
    `${production ? `; production ${production.accuracy} less ${plan.maxAccuracyDrop}` : ''})`
  );
}

/**
 * The evaluation Job run on the models at `modelsUri` with the training data at `dataUri`; it writes its metrics to
 * `metricsKey` in the model bucket, which are read back and held to accuracyShortfall. Throws ValidationFailed
 * saying what fell short (a failed Job throws JobFailed with its pod's last log lines); returns the metrics.
 */
export async function evaluateModels(
  plan: RetrainingPlan,
  run: { jobName: string; version: string; modelsUri: string; dataUri: string; metricsKey: string },
  production?: ModelMetrics,
): Promise<ModelMetrics> {
  const evaluation = modelJob(plan, run.jobName, run.version, 'ai_models/validate_models.py', [
    '--models',
    run.modelsUri,
    '--data',
    run.dataUri,
    '--metrics',
    `s3://${plan.modelsBucket}/${run.metricsKey}`,
  ]);
  await changes.runJob(evaluation);
  await waitForJob(evaluation.name, plan.jobTimeoutSeconds);
  const metrics = await probes.readModelMetrics({ key: run.metricsKey });
  const shortfall = accuracyShortfall(plan, metrics.accuracy, production);
  if (shortfall) throw ApplicationFailure.create({ type: FailureType.ValidationFailed, message: shortfall });
  return metrics;
}

/**
 * Whether the AI service serves a model worth keeping (seed 002 `./scripts/validate-models.sh`): every configured
 * health endpoint healthy, and the accuracy the service reports at least the configured minimum. The Sunday
 * window's model update and the AI service recovery both ask here.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../contracts/failures';
import { isHealthyProbe } from '../../contracts/health';
import { probes } from '../policies';
import { settle } from './settle';

/** Throws ValidationFailed saying what fell short; returns the accuracy that passed. */
export async function validateModels(minAccuracy: number): Promise<{ accuracy: number; endpoints: number }> {
  const urls = await probes.listHealthEndpoints();
  const health = await Promise.all(urls.map((url) => settle(probes.probeHealth(url))));
  const unhealthy = health.filter((h) => !(h.state === 'ok' && isHealthyProbe(h.result))).length;
  const metrics = await probes.fetchDailyMetrics();
  if (unhealthy > 0)
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: `${unhealthy} of ${urls.length} health endpoints not healthy`,
    });
  if (metrics.accuracyRate === undefined || metrics.accuracyRate < minAccuracy) {
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: `accuracy ${metrics.accuracyRate ?? 'unknown'} is below ${minAccuracy}`,
    });
  }
  return { accuracy: metrics.accuracyRate, endpoints: urls.length };
}

/**
 * The probe of the AI crisis manager that the crisis-manager watch runs (seed 002 "AI System Health": `curl
 * /ai/health`, whose `crisis_manager` must be "operational"; Issue 4: a crisis response slower than 10 seconds is a
 * failure). A failing crisis manager is an answer, not an error: the probe returns a verdict with the reason, so the
 * watch counts it without waiting out retries. Only what no retry can fix and no verdict should be drawn from, bad
 * credentials or a URL that is not there, is thrown. Read-only, so any retry is safe.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CRISIS_RESPONSE_LIMIT_MS, type CrisisManagerVerdict } from '../contracts/crisis-manager';
import { FailureType } from '../contracts/failures';
import { isHealthyState } from '../contracts/health';
import type { HttpDeps } from './http';
import { requestJson } from './http-client';

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Failure types that mean our configuration is wrong (token, URL), not that the crisis manager failed. */
const CONFIGURATION_FAILURES: string[] = [FailureType.NotAuthorized, FailureType.TargetNotFound];

export function createCrisisManagerActivities(deps: HttpDeps) {
  const url = deps.wedsync.crisisManagerHealthUrl;
  return {
    /** One probe of the crisis manager: healthy, or failed with the reason. */
    async probeCrisisManager(): Promise<CrisisManagerVerdict> {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const failed = (reason: string, extra: Partial<CrisisManagerVerdict> = {}): CrisisManagerVerdict => ({
        url,
        healthy: false,
        reason,
        latencyMs: elapsed(),
        ...extra,
      });
      let res;
      try {
        // The seed's bound is the timeout: an answer that takes longer is the failure itself, not worth waiting for.
        res = await requestJson(url, {
          bearerToken: deps.wedsync.apiToken,
          timeoutMs: CRISIS_RESPONSE_LIMIT_MS,
          credentialsSetting: 'WEDSYNC_API_TOKEN',
          keepErrorBodies: true,
        });
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err; // cancellation: the activity stops
        if (CONFIGURATION_FAILURES.includes(err.type ?? '')) {
          throw ApplicationFailure.create({
            type: err.type ?? undefined,
            message: `${err.message} (WEDSYNC_CRISIS_MANAGER_HEALTH_URL, or the first of WEDSYNC_HEALTH_URLS)`,
            nonRetryable: true,
          });
        }
        if (elapsed() >= CRISIS_RESPONSE_LIMIT_MS) {
          return failed(`no answer from ${url} within ${CRISIS_RESPONSE_LIMIT_MS / 1000} s`);
        }
        return failed(err.message);
      }
      const extra = { httpStatus: res.status, latencyMs: res.latencyMs };
      const doc = res.body;
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
        return failed(`${url} answered ${res.status} without a JSON object`, extra);
      }
      const body = doc as Record<string, unknown>;
      // Bounded: the verdict goes into the watch's history, and the endpoint's words are not ours to trust.
      const crisisManager = typeof body.crisis_manager === 'string' ? body.crisis_manager.slice(0, 100) : undefined;
      const responseTimeMs = num(body.response_time_ms);
      const seen = { ...extra, crisisManager, responseTimeMs };
      if (res.status >= 500) return failed(`${url} answered ${res.status}`, seen);
      // An endpoint that stops naming its crisis manager cannot vouch for it: on a wedding day a false alarm costs
      // less than a failure nobody takes over.
      if (crisisManager === undefined) return failed(`${url} did not report crisis_manager`, seen);
      if (!isHealthyState(crisisManager)) return failed(`crisis_manager is "${crisisManager}"`, seen);
      if (responseTimeMs !== undefined && responseTimeMs > CRISIS_RESPONSE_LIMIT_MS) {
        return failed(`response_time_ms ${responseTimeMs} is over ${CRISIS_RESPONSE_LIMIT_MS}`, seen);
      }
      return { url, healthy: true, ...seen };
    },
  };
}

/**
 * Seed 002 Recovery and Failover: the health of the two services the AI ingress can point at (the primary and
 * the backup), and the rule-based fallback's switch (`curl -X POST .../ai/fallback/enable`). The ingress switch
 * itself is `patchIngressBackend` (kubernetes/ingress.ts). And Issue 3's external dependency check.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { FailoverConfig, KubernetesTargets } from '../config';
import { FailureType } from '../contracts/failures';
import { parseInput, z } from '../contracts/input';
import type { HealthProbe, ProviderProbe } from '../contracts/probes';
import { probeHealthAt, wedsyncPost, type HttpDeps } from './http';
import { requestJson } from './http-client';

export interface FailoverDeps extends HttpDeps {
  failover: FailoverConfig;
  targets: KubernetesTargets;
}

export type ServiceRole = 'primary' | 'backup';

const targetInput = z.object({ target: z.enum(['primary', 'backup'], { message: 'must be primary or backup' }) });
const fallbackInput = z
  .object({
    enabled: z.boolean({ message: 'must be true or false' }),
    /** Idempotency-Key of the call: the same transition sends the same key however often it is retried. */
    key: z.string().min(1).max(300),
    reason: z.string().max(500).optional(),
  })
  .strict();

export function createFailoverActivities(deps: FailoverDeps) {
  const { failover, targets } = deps;
  const notConfigured = (variable: string, what: string) =>
    ApplicationFailure.create({
      type: FailureType.TargetNotFound,
      message: `${variable} is not set: ${what}`,
      nonRetryable: true,
    });

  return {
    /** The ingress and its two services as configured (names only), for workflows to say what they switch. */
    async failoverTargets(): Promise<{ ingress: string; primary: string; backup: string; port: number }> {
      return {
        ingress: targets.ingress,
        primary: targets.primaryService,
        backup: targets.backupService,
        port: targets.servicePort,
      };
    },

    /** One probe of the primary or the backup service's health endpoint. */
    async probeServiceHealth(raw: { target: ServiceRole }): Promise<HealthProbe> {
      const { target } = parseInput(targetInput, raw, 'probeServiceHealth');
      const url = target === 'primary' ? failover.primaryHealthUrl : failover.backupHealthUrl;
      if (!url) throw notConfigured('WEDSYNC_BACKUP_HEALTH_URL', 'the backup service has no health endpoint to check');
      return probeHealthAt(url, deps);
    },

    /**
     * Seed 002 Issue 3's `curl https://api.openai.com/v1/models`: whether the provider answers. No WedSync token is
     * sent to it (it is a third party's endpoint); an answer of 401 or 403 still shows the provider is up. Not
     * reachable is an answer, not a failure: the outage remediation reports it.
     */
    async probeProviderStatus(): Promise<ProviderProbe> {
      const url = failover.providerStatusUrl;
      if (!url) return { configured: false };
      try {
        const res = await requestJson(url, { timeoutMs: deps.wedsync.timeoutMs, keepErrorBodies: true });
        const data = (res.body as { data?: unknown } | undefined)?.data;
        return {
          configured: true,
          url,
          reachable: res.status < 500,
          httpStatus: res.status,
          latencyMs: res.latencyMs,
          ...(Array.isArray(data) && { models: data.length }),
        };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === FailureType.NotAuthorized)
          return { configured: true, url, reachable: true, detail: err.message };
        if (err instanceof ApplicationFailure && err.type === FailureType.UpstreamUnavailable)
          return { configured: true, url, reachable: false, detail: err.message };
        throw err;
      }
    },

    /**
     * Turns the rule-based fallback on or off. Retrying is safe: enabling twice leaves it enabled, and the call's
     * Idempotency-Key is fixed per transition.
     */
    async setFallbackMode(raw: { enabled: boolean; key: string; reason?: string }): Promise<void> {
      const { enabled, key, reason } = parseInput(fallbackInput, raw, 'setFallbackMode');
      const url = enabled ? failover.fallbackEnableUrl : failover.fallbackDisableUrl;
      if (!url) {
        throw notConfigured(
          enabled ? 'WEDSYNC_FALLBACK_ENABLE_URL' : 'WEDSYNC_FALLBACK_DISABLE_URL',
          'the fallback cannot be switched',
        );
      }
      await wedsyncPost(url, deps, { enabled, reason }, key);
    },
  };
}

/**
 * Seed 002 Recovery and Failover: the health of the two services the AI ingress can point at (the primary and
 * the backup), and the rule-based fallback's switch (`curl -X POST .../ai/fallback/enable`). The ingress switch
 * itself is `patchIngressBackend` (kubernetes/ingress.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { FailoverConfig, KubernetesTargets } from '../config';
import { FailureType } from '../contracts/failures';
import { parseInput, z } from '../contracts/input';
import type { HealthProbe } from '../contracts/probes';
import { probeHealthAt, wedsyncPost, type HttpDeps } from './http';

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

/**
 * ScrollUniversity's API as the local stack stands in for it (seed 000's `http://localhost:3000` paths): health,
 * the AI gateway's metrics and errors, its providers, usage, the cost dashboard, throttling, the spending breakdown,
 * the cache statistics and rebuild. The figures come from the condition the `ai-gateway-service` is switched into
 * (`POST /_local/conditions`), and the fixes change it: a throttle or the emergency throttle clears `over-budget`, a
 * cache rebuild clears `low-hit-rate`, and a `kubectl rollout restart` of the gateway made after the condition was
 * set clears `slow` and `failing` (read from the Deployment's restart annotation when a cluster is configured). A
 * condition set with `"sticky": true` survives its fix.
 */
import type { AppsV1Api } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { figuresFor, type DemoConditions } from './demo-conditions';

const GATEWAY = 'ai-gateway-service';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface ScrollUniversityDemoOptions {
  /** Where the gateway's Deployment is: its restarts clear `slow` and `failing`. Absent, restarts are not seen. */
  kubeconfig?: string;
  namespace?: string;
}

export interface DemoModule {
  get: Record<string, () => Promise<unknown>>;
  post: Record<string, (body: string) => void>;
}

/**
 * When a Deployment (the gateway by default) was last restarted, from its pod template's restart stamp; undefined
 * when unknown. WedSync's outage demo reads the optimization engine's the same way.
 */
export function restartReader(
  options: ScrollUniversityDemoOptions,
  deployment = GATEWAY,
): () => Promise<number | undefined> {
  if (!options.kubeconfig || !options.namespace) return async () => undefined;
  const { kubeconfig, namespace } = options;
  let apps: Promise<AppsV1Api> | undefined;
  return async () => {
    apps ??= import('@kubernetes/client-node').then((k8s) => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      return kc.makeApiClient(k8s.AppsV1Api);
    });
    try {
      const d = await (await apps).readNamespacedDeployment({ name: deployment, namespace });
      const stamp = d.spec?.template.metadata?.annotations?.[RESTARTED_AT];
      return stamp ? Date.parse(stamp) : undefined;
    } catch {
      return undefined;
    }
  };
}

export function scrollUniversityDemo(conditions: DemoConditions, options: ScrollUniversityDemoOptions): DemoModule {
  const lastRestart = restartReader(options);
  const state = { throttle: 'off', cacheRebuilds: 0 };
  /** The gateway's figures now, after clearing a slow or failing condition a later restart fixed. */
  const gateway = async () => {
    const condition = conditions.get(GATEWAY);
    if (condition === 'slow' || condition === 'failing') {
      const restartedAt = await lastRestart();
      if (restartedAt !== undefined) conditions.fix(GATEWAY, ['slow', 'failing'], restartedAt);
    }
    return { condition: conditions.get(GATEWAY), figures: figuresFor(conditions.get(GATEWAY)) };
  };
  const answering = async () => {
    const g = await gateway();
    if (g.condition === 'down') throw new Error('AI gateway down (POST /_local/conditions)');
    return g;
  };

  return {
    get: {
      '/health': async () => {
        const { condition, figures } = await answering();
        if (condition === 'failing') throw new Error('AI gateway failing (POST /_local/conditions)');
        return { status: 'healthy', response_time_ms: Math.round(figures.responseTimeSeconds * 1000) };
      },
      '/api/ai-monitoring/metrics/AIGatewayService': async () => {
        const { figures } = await answering();
        const avg = Math.round(figures.responseTimeSeconds * 1000);
        return {
          avg_response_time_ms: avg,
          p95_response_time_ms: avg * 2,
          error_rate: figures.errorRatio,
          requests: 1200,
        };
      },
      '/api/ai-monitoring/errors': async () => {
        const { condition, figures } = await answering();
        return {
          error_rate: figures.errorRatio,
          errors:
            condition === 'failing'
              ? [{ message: 'OpenAI API returned 500', count: 240 }]
              : [{ message: 'request timeout', count: 2 }],
        };
      },
      '/api/ai-monitoring/providers/status': async () => {
        const { condition } = await gateway();
        return {
          providers: [
            { name: 'openai', status: condition === 'slow' ? 'degraded_performance' : 'operational' },
            { name: 'anthropic', status: 'operational' },
          ],
        };
      },
      '/api/ai-monitoring/usage': async () => {
        const { condition } = await gateway();
        const over = condition === 'over-budget';
        return {
          requests_per_minute: over ? 480 : 110,
          baseline_requests_per_minute: 100,
          top_token_users: [
            { user: over ? 'batch-essay-import' : 'course-builder', tokens: over ? 9_400_000 : 420_000 },
            { user: 'tutor-chat', tokens: 310_000 },
          ],
          retry_loops: over ? [{ service: 'essay-grader', retries: 37 }] : [],
        };
      },
      '/api/cost-optimization/budget/status': async () => {
        const { figures } = await gateway();
        return {
          spent: figures.costSpentDollars,
          budget: figures.costBudgetDollars,
          currency: 'USD',
          period: 'month',
          throttle: state.throttle,
        };
      },
      '/api/cost-optimization/spending/breakdown': async () => {
        const { figures } = await gateway();
        const total = figures.costSpentDollars;
        const share = (s: number) => Number((total * s).toFixed(2));
        return {
          total,
          services: [
            { service: 'essay-grader', spent: share(0.55), tokens: Math.round(total * 0.55 * 20_000) },
            { service: 'tutor-chat', spent: share(0.3), tokens: Math.round(total * 0.3 * 20_000) },
            { service: 'course-builder', spent: share(0.15), tokens: Math.round(total * 0.15 * 20_000) },
          ],
        };
      },
      '/api/cost-optimization/cache/stats': async () => {
        const { figures } = await gateway();
        return {
          hit_rate: figures.cacheHitRatio,
          ttl_seconds: 3600,
          evicted_keys: figures.cacheHitRatio < 0.7 ? 18_250 : 120,
          used_memory_bytes: 1_900_000_000,
          max_memory_bytes: 2_000_000_000,
          rebuilds: state.cacheRebuilds,
        };
      },
    },
    post: {
      '/api/cost-optimization/throttle': (body) => {
        let level: unknown;
        try {
          level = (JSON.parse(body) as { level?: unknown }).level;
        } catch {
          level = undefined;
        }
        state.throttle = typeof level === 'string' ? level : 'moderate';
        conditions.fix(GATEWAY, ['over-budget']);
      },
      '/api/cost-optimization/emergency-throttle': () => {
        state.throttle = 'emergency';
        conditions.fix(GATEWAY, ['over-budget']);
      },
      '/api/cost-optimization/cache/rebuild': () => {
        state.cacheRebuilds += 1;
        conditions.fix(GATEWAY, ['low-hit-rate']);
      },
    },
  };
}

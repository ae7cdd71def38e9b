/**
 * The conditions the local AI services can be switched into at run time, so a rule can fire and a runbook can
 * be seen handling it: `POST /_local/conditions {"service": "...", "condition": "..."}` on the demo API. Each
 * condition sets the figures the seeds' alert rules read (monitoring/rules/); `healthy` puts them back.
 */
export const DEMO_SERVICES = [
  'ai-gateway-service',
  'ai-optimization-engine',
  'ai-recommendation-engine',
  // The backup AI service the ingress fails over to (seed 002 Manual Failover); `down` makes failover refuse it.
  'ai-backup-services',
  'crisis-manager',
  // ScrollUniversity's theological checker and vector store (seed 000 Issues 5 and 7).
  'theological-checker',
  'vector-store',
] as const;
export type DemoService = (typeof DEMO_SERVICES)[number];

export const DEMO_CONDITIONS = [
  'healthy',
  'slow',
  'failing',
  'over-budget',
  'low-accuracy',
  'down',
  // The theological checker has flagged content awaiting review (demo-scrolluniversity-content.ts).
  'flagged-content',
  // The vector index is out of date: a rebuild restores it; the sticky variant stays degraded after a rebuild.
  'index-degraded',
  'index-degraded-sticky',
  'low-hit-rate',
] as const;
export type DemoCondition = (typeof DEMO_CONDITIONS)[number];

export interface ServiceFigures {
  responseTimeSeconds: number;
  errorRatio: number;
  accuracyRatio: number;
  availabilityRatio: number;
  costSpentDollars: number;
  costBudgetDollars: number;
  cacheHitRatio: number;
  up: number;
}

const HEALTHY: ServiceFigures = {
  responseTimeSeconds: 0.25,
  errorRatio: 0.002,
  accuracyRatio: 0.92,
  availabilityRatio: 0.9995,
  costSpentDollars: 412.5,
  costBudgetDollars: 1000,
  cacheHitRatio: 0.85,
  up: 1,
};

const CHANGES: Record<DemoCondition, Partial<ServiceFigures>> = {
  healthy: {},
  slow: { responseTimeSeconds: 12 },
  failing: { errorRatio: 0.2, availabilityRatio: 0.95 },
  'over-budget': { costSpentDollars: 1250 },
  'low-accuracy': { accuracyRatio: 0.72 },
  down: { up: 0, availabilityRatio: 0, errorRatio: 1 },
  'flagged-content': { accuracyRatio: 0.78 },
  'index-degraded': { errorRatio: 0.3 },
  'index-degraded-sticky': { errorRatio: 0.3 },
  'low-hit-rate': { cacheHitRatio: 0.45 },
};

export function figuresFor(condition: DemoCondition): ServiceFigures {
  return { ...HEALTHY, ...CHANGES[condition] };
}

export class DemoConditions {
  private readonly current = new Map<DemoService, DemoCondition>(DEMO_SERVICES.map((s) => [s, 'healthy']));
  /**
   * When each service's condition was set, and whether it is sticky: a fix (a throttle, a rebuild, a restart after
   * it was set) clears a condition back to healthy unless it was set with `"sticky": true`, which shows what a
   * runbook does when its fix did not work.
   */
  private readonly since = new Map<DemoService, { atMs: number; sticky: boolean }>();

  /** A fix for `service` was applied: the condition clears if it is one of `cures` and not sticky. */
  fix(service: DemoService, cures: DemoCondition[], appliedAtMs = Date.now()): boolean {
    const condition = this.get(service);
    const since = this.since.get(service);
    if (!cures.includes(condition) || since?.sticky || (since && appliedAtMs < since.atMs)) return false;
    this.current.set(service, 'healthy');
    this.since.delete(service);
    return true;
  }

  get(service: DemoService): DemoCondition {
    return this.current.get(service) ?? 'healthy';
  }

  all(): Record<string, DemoCondition> {
    return Object.fromEntries(this.current);
  }

  /** Sets a condition from a request body; returns the problem when the body is not one. */
  set(body: unknown): string | undefined {
    const { service, condition } = (body ?? {}) as { service?: unknown; condition?: unknown };
    if (!DEMO_SERVICES.includes(service as DemoService)) return `service: must be one of ${DEMO_SERVICES.join(', ')}`;
    if (!DEMO_CONDITIONS.includes(condition as DemoCondition)) {
      return `condition: must be one of ${DEMO_CONDITIONS.join(', ')}`;
    }
    const { sticky } = body as { sticky?: unknown };
    if (sticky !== undefined && typeof sticky !== 'boolean') return 'sticky: must be true or false';
    this.current.set(service as DemoService, condition as DemoCondition);
    this.since.set(service as DemoService, { atMs: Date.now(), sticky: sticky === true });
    return undefined;
  }

  /** The figures of every service in Prometheus's text format. */
  metrics(): string {
    const series: [string, string, keyof ServiceFigures][] = [
      ['ai_response_time_seconds', 'Average AI response time', 'responseTimeSeconds'],
      ['ai_error_ratio', 'Share of AI requests that failed', 'errorRatio'],
      ['ai_accuracy_ratio', 'Share of AI answers accepted', 'accuracyRatio'],
      ['ai_availability_ratio', 'Availability over the last window', 'availabilityRatio'],
      ['ai_cost_spent_dollars', 'AI spend this month', 'costSpentDollars'],
      ['ai_cost_budget_dollars', 'AI budget this month', 'costBudgetDollars'],
      ['ai_cache_hit_ratio', 'AI response cache hit rate', 'cacheHitRatio'],
      ['ai_service_up', 'Whether the service answers (1) or not (0)', 'up'],
    ];
    const lines: string[] = [];
    for (const [name, help, field] of series) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const service of DEMO_SERVICES) {
        lines.push(`${name}{service="${service}"} ${figuresFor(this.get(service))[field]}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** What ScrollUniversity's API reports (seed 000), and the seed's thresholds it is judged by. Workflow-safe. */

/** seed 000 Service Level Objectives: response time under 3 seconds on average, error rate under 1 %. */
export const RESPONSE_TIME_SLO_MS = 3000;
export const ERROR_RATE_SLO = 0.01;
/** seed 000 Issue 4: a hit rate below 70 % is low. */
export const CACHE_HIT_RATE_FLOOR = 0.7;

export const THROTTLE_LEVELS = ['light', 'moderate', 'aggressive'] as const;
export type ThrottleLevel = (typeof THROTTLE_LEVELS)[number];

/**
 * The throttle for an overspend (spent / budget): approaching the budget, light; over it, the seed's moderate; a
 * quarter or more over, aggressive. Over by half is the P1 of seed 000's severity levels, Budget Exceeded's emergency
 * throttle.
 */
export function throttleLevelFor(ratio: number): ThrottleLevel {
  if (ratio < 1) return 'light';
  if (ratio < 1.25) return 'moderate';
  return 'aggressive';
}

export interface BudgetStatus {
  spent: number;
  budget: number;
  ratio: number;
  /** Above COST_ALERT_RATIO of the budget: the seed's budget alert. */
  anomaly: boolean;
  /** The throttle in force: off, a level, or emergency. */
  throttle: string;
}

export interface GatewayMetrics {
  avgResponseMs: number;
  p95ResponseMs?: number;
  errorRate: number;
  requests?: number;
}

export interface ScrollUniversityErrors {
  errorRate: number;
  errors: { message: string; count: number }[];
}

export interface ProviderStatus {
  name: string;
  status: string;
}

export interface UsagePatterns {
  requestsPerMinute: number;
  baselineRequestsPerMinute: number;
  topTokenUsers: { user: string; tokens: number }[];
  retryLoops: { service: string; retries: number }[];
}

export interface SpendingBreakdown {
  total: number;
  services: { service: string; spent: number; tokens: number }[];
}

export interface CacheStats {
  hitRate: number;
  ttlSeconds?: number;
  evictedKeys?: number;
  usedMemoryBytes?: number;
  maxMemoryBytes?: number;
}

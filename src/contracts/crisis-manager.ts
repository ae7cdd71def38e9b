/**
 * What a probe of the AI crisis manager finds, judged once here for the watch and anyone else who asks. Seed 002
 * "Issue 4: Wedding Day Crisis Management Failure" names the symptom "Crisis response time >10 seconds", and its
 * "AI System Health" check expects `crisis_manager: "operational"` from /ai/health. Types and constants only.
 */

/** Seed 002 Issue 4: a crisis response slower than this is a failure of the crisis manager. */
export const CRISIS_RESPONSE_LIMIT_MS = 10_000;

export interface CrisisManagerVerdict {
  /** The endpoint probed (WEDSYNC_CRISIS_MANAGER_HEALTH_URL). */
  url: string;
  /** False when the crisis manager counts as failed: see `reason`. */
  healthy: boolean;
  /** Why it counts as failed, for people and for the crisis it starts; absent when healthy. */
  reason?: string;
  /** Absent when nothing answered in time. */
  httpStatus?: number;
  /** Wall time of the probe's request, bounded by CRISIS_RESPONSE_LIMIT_MS. */
  latencyMs: number;
  /** The endpoint's `crisis_manager` state, as it said it. */
  crisisManager?: string;
  /** The endpoint's `response_time_ms`. */
  responseTimeMs?: number;
}

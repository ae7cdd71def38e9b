/** What the skipped-runs report says per schedule. Types only. */
export interface SkippedRunsSummary {
  scheduleId: string;
  /** False when the schedule is in the table but not registered on this server (nothing could run). */
  registered: boolean;
  skippedOverlap: number;
  missedCatchup: number;
  lastSkippedAt?: string;
}

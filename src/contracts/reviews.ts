/** What the evening performance review and the checklists read from the database. Types only. */
export interface AcceptanceSummary {
  hours: number;
  feedback: number;
  accepted: number;
  rejected: number;
  ignored: number;
  /** accepted / feedback; absent without feedback. */
  acceptanceRate?: number;
  averageRating?: number;
  /** The same rate over the period before, for the trend. */
  previousAcceptanceRate?: number;
}

export interface VolumeTrend {
  /** Optimisation requests per day, oldest first, the last being the latest 24 hours. */
  dailyRequests: number[];
  today: number;
  /** Mean of the days before today; absent with no history. */
  baseline?: number;
  /** today / baseline - 1. */
  change?: number;
}

/** What workflows ask the notification activities for: who is told, how urgently, under which dedup key. Types only. */
import type { Audience } from './roster';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type Severity = 'critical' | 'error' | 'warning' | 'info';

export interface NotifyRequest {
  audience: Audience;
  message: string;
  /** page: also a PagerDuty trigger for people who are paged; message: Slack only. */
  urgency: 'page' | 'message';
  /** PagerDuty dedup key: the same incident is one PagerDuty alert however often it is paged. */
  dedupKey: string;
  severity?: Severity;
}

export interface NotifyResult {
  notified: string[];
  slack: boolean;
  paged: boolean;
}

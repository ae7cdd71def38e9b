/** A receiver standing in for the WedSync API, Slack and PagerDuty, with the config variables that point at it. */
import { HttpReceiver, type RecordedRequest } from './http-receiver';

export const CRISIS_PATHS = {
  alert: '/alerts/emergency',
  manualMode: '/crisis/manual-mode/enable',
  couple: '/crisis/notify-couple',
  planners: '/crisis/emergency-planners/deploy',
  vendors: '/crisis/vendor-network/activate',
  executives: '/crisis/executive-escalation',
  comms: '/crisis/communication/begin',
  slack: '/hooks/slack',
  pagerduty: '/pagerduty/v2/enqueue',
  health: '/ai/health',
  errors: '/ai/errors/recent',
} as const;

export async function startRunbookReceiver(): Promise<HttpReceiver> {
  const receiver = new HttpReceiver();
  for (const path of Object.values(CRISIS_PATHS)) receiver.route(path, { status: 202, body: { status: 'accepted' } });
  receiver.route(CRISIS_PATHS.health, { status: 200, body: { status: 'healthy' } });
  receiver.route(CRISIS_PATHS.errors, { status: 200, body: { errors: [] } });
  return receiver.start();
}

export function receiverEnv(r: HttpReceiver): NodeJS.ProcessEnv {
  return {
    WEDSYNC_EMERGENCY_ALERT_URL: r.url(CRISIS_PATHS.alert),
    WEDSYNC_MANUAL_MODE_URL: r.url(CRISIS_PATHS.manualMode),
    WEDSYNC_COUPLE_NOTIFY_URL: r.url(CRISIS_PATHS.couple),
    WEDSYNC_EMERGENCY_PLANNERS_URL: r.url(CRISIS_PATHS.planners),
    WEDSYNC_VENDOR_NETWORK_URL: r.url(CRISIS_PATHS.vendors),
    WEDSYNC_EXECUTIVE_ESCALATION_URL: r.url(CRISIS_PATHS.executives),
    WEDSYNC_CRISIS_COMMS_URL: r.url(CRISIS_PATHS.comms),
    SLACK_WEBHOOK_URL: r.url(CRISIS_PATHS.slack),
    PAGERDUTY_EVENTS_URL: r.url(CRISIS_PATHS.pagerduty),
    WEDSYNC_HEALTH_URLS: r.url(CRISIS_PATHS.health),
    WEDSYNC_ERRORS_URL: r.url(CRISIS_PATHS.errors),
  };
}

export const slackTexts = (r: HttpReceiver, after = 0): string[] =>
  r.requests
    .slice(after)
    .filter((q) => q.path === CRISIS_PATHS.slack)
    .map((q) => JSON.parse(q.body).text as string);

export const pagerDutyEvents = (
  r: HttpReceiver,
  after = 0,
): { event_action: string; dedup_key: string; payload?: { summary: string } }[] =>
  r.requests
    .slice(after)
    .filter((q: RecordedRequest) => q.path === CRISIS_PATHS.pagerduty)
    .map((q) => JSON.parse(q.body));

/** What a notification service that honours Idempotency-Key saw: each key's first request tells a couple. */
export interface NoticeLedger {
  /** Idempotency keys told, in order. */
  told: string[];
  /** Requests that repeated a key already told, dropped as a real service drops them. */
  repeats: number;
}

/**
 * Answers couple notifications as a real provider does: the first request with a key is delivered, a repeat gets
 * the same answer and is not delivered again. `latencyMs` delays every answer.
 */
export function honourIdempotency(r: HttpReceiver, latencyMs = 0): NoticeLedger {
  const ledger: NoticeLedger = { told: [], repeats: 0 };
  const seen = new Set<string>();
  r.route(CRISIS_PATHS.couple, async (req) => {
    if (latencyMs) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const key = String(req.headers['idempotency-key']);
    if (seen.has(key)) ledger.repeats += 1;
    else {
      seen.add(key);
      ledger.told.push(key);
    }
    return { status: 202, body: { status: 'accepted' } };
  });
  return ledger;
}

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

/**
 * Notifications: a Slack-compatible incoming webhook and the PagerDuty Events API v2, both plain HTTP to
 * configured URLs. Who is reached, and how, is resolved here from the roster in configuration, so channels
 * and keys never enter a workflow.
 */
import { invalidInput } from '../common/failures';
import { membersOf, type Audience, type Member } from '../common/roster';
import type { AppConfig, BusinessHours, Person } from '../config';
import { requestJson } from './http-client';

export interface NotifyDeps {
  notifications: AppConfig['notifications'];
  roster: Person[];
  businessHours: BusinessHours;
  wedsync: { timeoutMs: number };
}

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

const SEVERITIES: Severity[] = ['critical', 'error', 'warning', 'info'];

export function createNotifyActivities(deps: NotifyDeps) {
  const timeoutMs = deps.wedsync.timeoutMs;

  async function pagerduty(action: PagerDutyAction, dedupKey: string, summary: string, severity: Severity) {
    await requestJson(deps.notifications.pagerdutyEventsUrl, {
      method: 'POST',
      timeoutMs,
      credentialsSetting: 'PAGERDUTY_ROUTING_KEY',
      body: {
        routing_key: deps.notifications.pagerdutyRoutingKey,
        event_action: action,
        dedup_key: dedupKey,
        ...(action === 'trigger' ? { payload: { summary: summary.slice(0, 1024), source: 'aiops-runbooks', severity } } : {}),
      },
    });
  }

  return {
    /** The roster as workflows may see it: ids, names and roles, and the business hours. */
    async loadDirectory(): Promise<{ members: Member[]; businessHours: BusinessHours }> {
      return {
        members: deps.roster.map(({ id, name, roles }) => ({ id, name, roles })),
        businessHours: deps.businessHours,
      };
    },

    /**
     * Tells an audience. PagerDuty triggers are idempotent by dedup key; a Slack webhook has no such key, so
     * a retry after a lost answer can post twice, which is the safe side for an alert.
     */
    async notify(req: NotifyRequest): Promise<NotifyResult> {
      if (!req.message) throw invalidInput('message', 'must not be empty');
      if (!req.dedupKey) throw invalidInput('dedupKey', 'must not be empty');
      const severity = req.severity ?? 'critical';
      if (!SEVERITIES.includes(severity)) throw invalidInput('severity', `must be one of ${SEVERITIES.join(', ')}`);
      const people = membersOf(deps.roster, req.audience).map((m) => deps.roster.find((p) => p.id === m.id)!);
      if (people.length === 0) throw invalidInput('audience', 'names nobody on the roster (AIOPS_ROSTER)');

      const mentions = people.map((p) => p.slack).filter((h): h is string => !!h);
      let slack = false;
      if (mentions.length > 0) {
        await requestJson(deps.notifications.slackWebhookUrl, {
          method: 'POST',
          timeoutMs,
          credentialsSetting: 'SLACK_WEBHOOK_URL',
          body: { text: `${mentions.join(' ')} ${req.message}` },
        });
        slack = true;
      }
      const paged = req.urgency === 'page' && people.some((p) => p.pagerduty);
      if (paged) {
        const names = people.filter((p) => p.pagerduty).map((p) => p.name);
        await pagerduty('trigger', req.dedupKey, `[${names.join(', ')}] ${req.message}`, severity);
      }
      return { notified: people.map((p) => p.id), slack, paged };
    },

    /** PagerDuty Events API v2 acknowledge/resolve of the alert with this dedup key. */
    async updatePagerDuty(req: { action: PagerDutyAction; dedupKey: string; summary: string; severity?: Severity }) {
      if (!['trigger', 'acknowledge', 'resolve'].includes(req.action)) {
        throw invalidInput('action', 'must be trigger, acknowledge or resolve');
      }
      if (!req.dedupKey) throw invalidInput('dedupKey', 'must not be empty');
      await pagerduty(req.action, req.dedupKey, req.summary, req.severity ?? 'critical');
    },
  };
}

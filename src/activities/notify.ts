/**
 * Notifications: a Slack-compatible incoming webhook, the PagerDuty Events API v2, and the couples told during a
 * wedding-day crisis, all plain HTTP to configured URLs. Who is reached, and how, is resolved here from the
 * roster in configuration, so channels, keys and addresses never enter a workflow.
 */
import { metricMeter } from '@temporalio/activity';
import type { Pool } from 'pg';
import { checkCrisisKey } from '../contracts/crisis';
import { invalidInput } from '../contracts/failures';
import { METRICS } from '../contracts/metrics';
import type { NotifyRequest, NotifyResult, PagerDutyAction, Severity } from '../contracts/notifications';
import { membersOf } from '../contracts/roster';
import type { AppConfig, Person } from '../config';
import { requestJson } from './http-client';
import { sendCoupleNotice } from './couples';
import type { HttpDeps } from './http';

export interface NotifyDeps extends HttpDeps {
  notifications: AppConfig['notifications'];
  roster: Person[];
  pool: Pool;
}

const SEVERITIES: Severity[] = ['critical', 'error', 'warning', 'info'];

/** Counts a notification by channel and outcome (aiops_notifications_total); a no-op outside an activity. */
async function counted<T>(channel: 'slack' | 'pagerduty', send: () => Promise<T>): Promise<T> {
  const count = (outcome: 'sent' | 'failed') => {
    try {
      const { name, unit, help } = METRICS.notifications;
      metricMeter.createCounter(name, unit, help).add(1, { channel, outcome });
    } catch {
      // called outside an activity's context (a direct call in a test): nothing to count into
    }
  };
  try {
    const result = await send();
    count('sent');
    return result;
  } catch (err) {
    count('failed');
    throw err;
  }
}

export function createNotifyActivities(deps: NotifyDeps) {
  const timeoutMs = deps.wedsync.timeoutMs;

  async function pagerduty(action: PagerDutyAction, dedupKey: string, summary: string, severity: Severity) {
    await counted('pagerduty', () =>
      requestJson(deps.notifications.pagerdutyEventsUrl, {
        method: 'POST',
        timeoutMs,
        credentialsSetting: 'PAGERDUTY_ROUTING_KEY',
        body: {
          routing_key: deps.notifications.pagerdutyRoutingKey,
          event_action: action,
          dedup_key: dedupKey,
          ...(action === 'trigger'
            ? { payload: { summary: summary.slice(0, 1024), source: 'aiops-runbooks', severity } }
            : {}),
        },
      }),
    );
  }

  /** The audience's people with how to reach them, or a non-retryable failure naming what is wrong. */
  function audienceOf(req: NotifyRequest) {
    if (!req.message) throw invalidInput('message', 'must not be empty');
    if (!req.dedupKey) throw invalidInput('dedupKey', 'must not be empty');
    const severity = req.severity ?? 'critical';
    if (!SEVERITIES.includes(severity)) throw invalidInput('severity', `must be one of ${SEVERITIES.join(', ')}`);
    const people = membersOf(deps.roster, req.audience).map((m) => deps.roster.find((p) => p.id === m.id)!);
    if (people.length === 0) throw invalidInput('audience', 'names nobody on the roster (AIOPS_ROSTER)');
    return { people, severity };
  }

  /** A Slack webhook has no idempotency key: a retry after a lost answer can post twice, the safe side for an alert. */
  async function postToSlack(people: Person[], message: string): Promise<boolean> {
    const mentions = people.map((p) => p.slack).filter((h): h is string => !!h);
    if (mentions.length === 0) return false;
    await counted('slack', () =>
      requestJson(deps.notifications.slackWebhookUrl, {
        method: 'POST',
        timeoutMs,
        credentialsSetting: 'SLACK_WEBHOOK_URL',
        body: { text: `${mentions.join(' ')} ${message}` },
      }),
    );
    return true;
  }

  /** A PagerDuty trigger is idempotent by its dedup key. */
  async function page(people: Person[], req: NotifyRequest, severity: Severity): Promise<boolean> {
    const paged = people.filter((p) => p.pagerduty);
    if (req.urgency !== 'page' || paged.length === 0) return false;
    await pagerduty('trigger', req.dedupKey, `[${paged.map((p) => p.name).join(', ')}] ${req.message}`, severity);
    return true;
  }

  return {
    /**
     * Tells an audience on both channels in one activity: Slack first, then PagerDuty. Kept for workflows that
     * scheduled it before each channel had its own activity (notifySlack, pageOnCall); new code calls those.
     */
    async notify(req: NotifyRequest): Promise<NotifyResult> {
      const { people, severity } = audienceOf(req);
      const slack = await postToSlack(people, req.message);
      const paged = await page(people, req, severity);
      return { notified: people.map((p) => p.id), slack, paged };
    },

    /** Slack alone: its failure never keeps anyone from being paged, and a page's retry never posts again. */
    async notifySlack(req: NotifyRequest): Promise<{ notified: string[]; posted: boolean }> {
      const { people } = audienceOf(req);
      return { notified: people.map((p) => p.id), posted: await postToSlack(people, req.message) };
    },

    /** PagerDuty alone, for the audience's people who are paged, when the urgency is a page. */
    async pageOnCall(req: NotifyRequest): Promise<{ paged: boolean }> {
      const { people, severity } = audienceOf(req);
      return { paged: await page(people, req, severity) };
    },

    /** PagerDuty Events API v2 acknowledge/resolve of the alert with this dedup key. */
    async updatePagerDuty(req: { action: PagerDutyAction; dedupKey: string; summary: string; severity?: Severity }) {
      if (!['trigger', 'acknowledge', 'resolve'].includes(req.action)) {
        throw invalidInput('action', 'must be trigger, acknowledge or resolve');
      }
      if (!req.dedupKey) throw invalidInput('dedupKey', 'must not be empty');
      await pagerduty(req.action, req.dedupKey, req.summary, req.severity ?? 'critical');
    },

    /**
     * Notifies one couple once per crisis run (runs from before the platform-scope takeover: notifyCouples). A row per (crisis, couple) records a finished send, so a retry after
     * success sends nothing; a retry after a send whose answer was lost repeats the same Idempotency-Key.
     */
    async notifyCouple(req: {
      crisisKey: string;
      activeCrisisId: number;
    }): Promise<{ sent: boolean; alreadySent: boolean }> {
      const key = checkCrisisKey(req.crisisKey);
      if (!Number.isSafeInteger(req.activeCrisisId) || req.activeCrisisId < 1)
        throw invalidInput('activeCrisisId', 'must be a positive integer');
      const claim = await deps.pool.query<{ status: string }>(
        `INSERT INTO crisis_notifications (crisis_key, active_crisis_id, status, attempts)
         VALUES ($1, $2, 'sending', 1)
         ON CONFLICT (crisis_key, active_crisis_id)
           DO UPDATE SET attempts = crisis_notifications.attempts + 1
         RETURNING status`,
        [key, req.activeCrisisId],
      );
      if (claim.rows[0].status === 'sent') return { sent: false, alreadySent: true };

      const couple = await deps.pool.query<{ wedding_id: string; couple_email: string; crisis_type: string }>(
        'SELECT wedding_id, couple_email, crisis_type FROM active_crises WHERE id = $1',
        [req.activeCrisisId],
      );
      if (couple.rowCount === 0) throw invalidInput('activeCrisisId', `no active crisis ${req.activeCrisisId}`);
      await sendCoupleNotice(
        deps,
        { ...couple.rows[0], id: String(req.activeCrisisId) },
        `${key}/couple/${req.activeCrisisId}`,
      );
      await deps.pool.query(
        `UPDATE crisis_notifications SET status = 'sent', sent_at = now() WHERE crisis_key = $1 AND active_crisis_id = $2`,
        [key, req.activeCrisisId],
      );
      return { sent: true, alreadySent: false };
    },
  };
}

/**
 * How a workflow tells people: Slack and PagerDuty, each its own activity with its own retries, so a Slack outage
 * never keeps anyone from being paged and a PagerDuty retry never posts to Slack again. Every escalation tier is
 * paged under a dedup key of its own: PagerDuty folds a trigger with an open alert's key into that alert, so a tier
 * paged under the first tier's key would never hear of it. Acknowledging or resolving covers every key paged.
 */
import { patched } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import type { NotifyRequest, PagerDutyAction } from '../../contracts/notifications';
import { notifications } from '../policies';

/** Workflows started before it told people in one activity (Slack, then PagerDuty) under one dedup key. */
export const CHANNELS_APART_PATCH = 'notify-channels-apart';

export class Pager {
  /** Decided when the workflow starts, before any await: see crisis/local-first.ts for why that matters. */
  readonly channelsApart = patched(CHANNELS_APART_PATCH);
  private readonly pagedKeys = new Set<string>();

  /** @param dedupKey the workflow's own PagerDuty dedup key; escalation tiers get keys derived from it. */
  constructor(readonly dedupKey: string) {}

  /** The dedup key a tier of escalation is paged under. */
  tierKey(tierNumber: number): string {
    return this.channelsApart ? `${this.dedupKey}/tier-${tierNumber}` : this.dedupKey;
  }

  /** Tells the audience on each channel; returns what failed ("slack: ...", "pagerduty: ..."), never throws. */
  async tell(req: NotifyRequest): Promise<string[]> {
    if (!this.channelsApart) {
      try {
        await notifications.notify(req);
        return [];
      } catch (err) {
        return [failureText(err)];
      }
    }
    if (req.urgency === 'page') this.pagedKeys.add(req.dedupKey);
    const [slack, page] = await Promise.allSettled([
      notifications.notifySlack(req),
      req.urgency === 'page' ? notifications.pageOnCall(req) : Promise.resolve(undefined),
    ]);
    return [
      ...(slack.status === 'rejected' ? [`slack: ${failureText(slack.reason)}`] : []),
      ...(page.status === 'rejected' ? [`pagerduty: ${failureText(page.reason)}`] : []),
    ];
  }

  /** Acknowledges or resolves every alert this workflow paged; returns what failed, never throws. */
  async update(action: Exclude<PagerDutyAction, 'trigger'>, summary: string): Promise<string[]> {
    const keys = this.channelsApart ? [...this.pagedKeys] : [this.dedupKey];
    const results = await Promise.allSettled(
      keys.map((dedupKey) => notifications.updatePagerDuty({ action, dedupKey, summary })),
    );
    return results.flatMap((r, i) => (r.status === 'rejected' ? [`${keys[i]}: ${failureText(r.reason)}`] : []));
  }
}

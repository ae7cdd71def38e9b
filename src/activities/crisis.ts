/**
 * seed 002 "Issue 4: Wedding Day Crisis Management Failure", EMERGENCY PROTOCOL: the alert, manual crisis
 * mode, finding and notifying the affected couples, and the follow-up actions' endpoints. Couples' addresses
 * stay in the database: workflows see row ids only.
 */
import type { Pool } from 'pg';
import { invalidInput } from '../common/failures';
import type { AppConfig } from '../config';
import { requestJson } from './http-client';

export interface CrisisDeps {
  pool: Pool;
  wedsync: AppConfig['wedsync'];
}

export const CRISIS_ACTIONS = ['emergency-planners', 'vendor-network', 'executive-escalation', 'crisis-communication'] as const;
export type CrisisAction = (typeof CRISIS_ACTIONS)[number];

export interface AffectedCouple {
  activeCrisisId: number;
  weddingId: string;
  crisisType: string;
}

const KEY = /^[A-Za-z0-9:/_.-]{1,200}$/;

function checkKey(crisisKey: unknown): string {
  if (typeof crisisKey !== 'string' || !KEY.test(crisisKey)) throw invalidInput('crisisKey', 'must be 1-200 characters of A-Z a-z 0-9 : / _ . -');
  return crisisKey;
}

export function createCrisisActivities({ pool, wedsync }: CrisisDeps) {
  const post = (url: string, body: unknown, idempotencyKey: string) =>
    requestJson(url, {
      method: 'POST',
      body,
      idempotencyKey,
      bearerToken: wedsync.apiToken,
      timeoutMs: wedsync.timeoutMs,
      credentialsSetting: 'WEDSYNC_API_TOKEN',
    });

  const actionUrls: Record<CrisisAction, string> = {
    'emergency-planners': wedsync.crisis.emergencyPlannersUrl,
    'vendor-network': wedsync.crisis.vendorNetworkUrl,
    'executive-escalation': wedsync.crisis.executiveEscalationUrl,
    'crisis-communication': wedsync.crisis.crisisCommsUrl,
  };

  return {
    /** `curl -X POST .../emergency -d '{"type": "ai_crisis_failure", "severity": "critical"}'`, with the crisis named. */
    async sendEmergencyAlert(req: { crisisKey: string; weddingId: string; crisisType: string }): Promise<void> {
      const key = checkKey(req.crisisKey);
      await post(
        wedsync.crisis.emergencyAlertUrl,
        { type: 'ai_crisis_failure', severity: 'critical', wedding_id: req.weddingId, crisis_type: req.crisisType, crisis_key: key },
        `${key}/emergency-alert`,
      );
    },

    /** `curl -X POST .../crisis/manual-mode/enable`: enabling twice leaves it enabled, so retrying is safe. */
    async enableManualCrisisMode(req: { crisisKey: string }): Promise<void> {
      const key = checkKey(req.crisisKey);
      await post(wedsync.crisis.manualModeUrl, { crisis_key: key }, `${key}/manual-mode`);
    },

    /** The seed's query for couples with active crises, parameterised. */
    async findAffectedCouples(req: { withinMinutes?: number } = {}): Promise<AffectedCouple[]> {
      const minutes = req.withinMinutes ?? 60;
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw invalidInput('withinMinutes', 'must be 1 to 1440');
      const { rows } = await pool.query<{ id: string; wedding_id: string; crisis_type: string }>(
        `SELECT id, wedding_id, crisis_type
           FROM active_crises
          WHERE status = $1
            AND created_at > now() - make_interval(mins => $2)
          ORDER BY id`,
        ['ai_processing', minutes],
      );
      return rows.map((r) => ({ activeCrisisId: Number(r.id), weddingId: r.wedding_id, crisisType: r.crisis_type }));
    },

    /**
     * Notifies one couple once per crisis. A row per (crisis, couple) records a finished send, so a retry after
     * success sends nothing; a retry after a send whose answer was lost repeats the same Idempotency-Key.
     */
    async notifyCouple(req: { crisisKey: string; activeCrisisId: number }): Promise<{ sent: boolean; alreadySent: boolean }> {
      const key = checkKey(req.crisisKey);
      if (!Number.isSafeInteger(req.activeCrisisId) || req.activeCrisisId < 1) throw invalidInput('activeCrisisId', 'must be a positive integer');
      const claim = await pool.query<{ status: string }>(
        `INSERT INTO crisis_notifications (crisis_key, active_crisis_id, status, attempts)
         VALUES ($1, $2, 'sending', 1)
         ON CONFLICT (crisis_key, active_crisis_id)
           DO UPDATE SET attempts = crisis_notifications.attempts + 1
         RETURNING status`,
        [key, req.activeCrisisId],
      );
      if (claim.rows[0].status === 'sent') return { sent: false, alreadySent: true };

      const couple = await pool.query<{ wedding_id: string; couple_email: string; crisis_type: string }>(
        'SELECT wedding_id, couple_email, crisis_type FROM active_crises WHERE id = $1',
        [req.activeCrisisId],
      );
      if (couple.rowCount === 0) throw invalidInput('activeCrisisId', `no active crisis ${req.activeCrisisId}`);
      const c = couple.rows[0];
      await post(
        wedsync.crisis.coupleNotifyUrl,
        {
          wedding_id: c.wedding_id,
          couple_email: c.couple_email,
          crisis_type: c.crisis_type,
          message: 'Our wedding-day team has taken over your request personally and will contact you within minutes.',
        },
        `${key}/couple/${req.activeCrisisId}`,
      );
      await pool.query(
        `UPDATE crisis_notifications SET status = 'sent', sent_at = now() WHERE crisis_key = $1 AND active_crisis_id = $2`,
        [key, req.activeCrisisId],
      );
      return { sent: true, alreadySent: false };
    },

    /** Follow-up actions (5-30 minutes): each calls its configured endpoint once per crisis. */
    async startCrisisAction(req: { crisisKey: string; action: CrisisAction; weddingId: string }): Promise<void> {
      const key = checkKey(req.crisisKey);
      const url = actionUrls[req.action];
      if (!url) throw invalidInput('action', `must be one of ${CRISIS_ACTIONS.join(', ')}`);
      await post(url, { crisis_key: key, wedding_id: req.weddingId, action: req.action }, `${key}/${req.action}`);
    },
  };
}

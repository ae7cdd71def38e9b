/**
 * The crisis protocol's takeover (seed 002 Issue 4, "Enable Manual Crisis Management" and "Notify Affected
 * Couples") at platform scale. A run takes over the active crises the AI was processing by marking them handled
 * manually: one UPDATE, so two overlapping runs never share a crisis and the AI's recovery leaves them alone. It then
 * tells the couples in batches, many requests in flight at once. A couple is told once per active crisis, whichever
 * run reaches them: `couple_notifications` holds one row per active crisis, claimed before the send and marked sent
 * after it, and every send of one crisis's notice carries the same Idempotency-Key, so a send repeated after a
 * worker died mid-request is dropped by the notification service.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  checkCrisisKey,
  type CoupleBatchRequest,
  type CoupleBatchResult,
  type TakeoverRequest,
  type TakeoverResult,
} from '../contracts/crisis';
import { failureText, invalidInput } from '../contracts/failures';
import { wedsyncPost, type HttpDeps } from './http';
import { postgresFailure, type PostgresDeps } from './postgres/failure';

export type CouplesDeps = HttpDeps & PostgresDeps;

/** What an active crisis's couple is sent. */
interface CoupleRow {
  id: string;
  wedding_id: string;
  couple_email: string;
  crisis_type: string;
}

/** The status a taken-over crisis gets: the AI's recovery acts on `ai_processing` only. */
export const TAKEN_OVER_STATUS = 'manual';

/** A claim older than this, left `sending` by a run that is gone, may be taken by another run. */
const STALE_CLAIM = '10 minutes';
const MAX_BATCH = 10_000;
/** Tries of one couple's send inside a batch before it counts as failed for this pass. */
const SEND_ATTEMPTS = 3;
const RETRY_DELAY_MS = 500;
/** How often finished sends are recorded and the activity heartbeats. */
const FLUSH_MS = 250;

/** The notice itself; every send of it for one active crisis carries the same Idempotency-Key. */
export async function sendCoupleNotice(deps: HttpDeps, couple: CoupleRow, idempotencyKey: string): Promise<void> {
  await wedsyncPost(
    deps.wedsync.crisis.coupleNotifyUrl,
    deps,
    {
      wedding_id: couple.wedding_id,
      couple_email: couple.couple_email,
      crisis_type: couple.crisis_type,
      message: 'Our wedding-day team has taken over your request personally and will contact you within minutes.',
    },
    idempotencyKey,
  );
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

function checkWhole(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidInput(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function createCouplesActivities(deps: CouplesDeps) {
  const { pool } = deps;
  const concurrency = deps.wedsync.crisis.notifyConcurrency;

  async function query<T extends object>(what: string, sql: string, params: unknown[]) {
    try {
      return await pool.query<T>(sql, params);
    } catch (err) {
      throw postgresFailure(err, what);
    }
  }

  /** One couple's send with a few quick tries; a wrong request is not tried again. */
  async function sendWithRetries(row: CoupleRow, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await sendCoupleNotice(deps, row, `couple-notice/${row.id}`);
        return;
      } catch (err) {
        const final = err instanceof ApplicationFailure && err.nonRetryable;
        if (final || attempt >= SEND_ATTEMPTS || signal.aborted) throw err;
        await sleep(RETRY_DELAY_MS * attempt, signal);
      }
    }
  }

  return {
    /**
     * The seed's SELECT as an UPDATE: every crisis the AI was processing in the window (one wedding's when
     * weddingId is given) is marked handled manually by this run. Taking over twice takes nothing more.
     */
    async takeOverCrises(req: TakeoverRequest): Promise<TakeoverResult> {
      const key = checkCrisisKey(req.crisisKey);
      const minutes = checkWhole(req.withinMinutes, 'withinMinutes', 1, 24 * 60);
      const wedding = req.weddingId;
      if (wedding !== undefined && (typeof wedding !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(wedding)))
        throw invalidInput('weddingId', 'must be 1-64 characters of A-Z a-z 0-9 _ -');
      const taken = await query(
        'taking over active crises',
        `UPDATE active_crises
            SET status = $1, taken_over_by = $2, taken_over_at = now()
          WHERE status = 'ai_processing'
            AND created_at > now() - make_interval(mins => $3)
            AND ($4::text IS NULL OR wedding_id = $4)`,
        [TAKEN_OVER_STATUS, key, minutes, req.weddingId ?? null],
      );
      const total = await query<{ n: string }>(
        'counting taken-over crises',
        'SELECT count(*) AS n FROM active_crises WHERE taken_over_by = $1',
        [key],
      );
      return { takenOver: taken.rowCount ?? 0, total: Number(total.rows[0].n) };
    },

    /**
     * Tells the couples of one batch of this run's taken-over crises, `CRISIS_NOTIFY_CONCURRENCY` at a time.
     * With `retryFailed`, the batch is the run's crises whose notice failed before. Sends finished are recorded
     * every quarter second, with a heartbeat carrying the counts; a retried batch skips what was recorded and
     * repeats, under the same Idempotency-Key, only what was in flight.
     */
    async notifyCouples(req: CoupleBatchRequest & { retryFailed?: boolean }): Promise<CoupleBatchResult> {
      const key = checkCrisisKey(req.crisisKey);
      const afterId = checkWhole(req.afterId, 'afterId', 0, Number.MAX_SAFE_INTEGER);
      const limit = checkWhole(req.limit, 'limit', 1, MAX_BATCH);
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;

      const { rows } = await query<CoupleRow>(
        'reading taken-over crises',
        req.retryFailed
          ? `SELECT a.id, a.wedding_id, a.couple_email, a.crisis_type
               FROM active_crises a JOIN couple_notifications n ON n.active_crisis_id = a.id
              WHERE a.taken_over_by = $1 AND a.id > $2 AND n.status = 'failed'
              ORDER BY a.id LIMIT $3`
          : `SELECT id, wedding_id, couple_email, crisis_type
               FROM active_crises WHERE taken_over_by = $1 AND id > $2 ORDER BY id LIMIT $3`,
        // One row more than the batch tells whether another batch follows, so none is scheduled to find nothing.
        [key, afterId, limit + 1],
      );
      const more = rows.length > limit;
      if (more) rows.pop();
      const result: CoupleBatchResult = {
        lastId: rows.length ? Number(rows[rows.length - 1].id) : afterId,
        done: !more,
        notified: 0,
        alreadyTold: 0,
        failed: 0,
      };
      if (!rows.length) return result;
      const ids = rows.map((r) => r.id);

      // Claims every notice nobody has sent: new ones, failed ones, this run's own unfinished ones, stale ones.
      const claimed = await query<{ active_crisis_id: string }>(
        'claiming couple notices',
        `INSERT INTO couple_notifications AS n (active_crisis_id, status, notified_by)
         SELECT unnest($1::bigint[]), 'sending', $2
         ON CONFLICT (active_crisis_id) DO UPDATE
            SET status = 'sending', notified_by = $2, attempts = n.attempts + 1, claimed_at = now()
          WHERE n.status = 'failed'
             OR (n.status = 'sending' AND (n.notified_by = $2 OR n.claimed_at < now() - $3::interval))
         RETURNING active_crisis_id`,
        [ids, key, STALE_CLAIM],
      );
      const toSend = new Set(claimed.rows.map((r) => r.active_crisis_id));
      const others = ids.filter((id) => !toSend.has(id));
      if (others.length) {
        // Not claimed: sent already (by this run's earlier attempt, or by another run), or in another run's hands.
        const mine = await query<{ n: string }>(
          'reading couple notices',
          `SELECT count(*) AS n FROM couple_notifications
            WHERE active_crisis_id = ANY($1::bigint[]) AND status = 'sent' AND notified_by = $2`,
          [others, key],
        );
        result.notified = Number(mine.rows[0].n);
        result.alreadyTold = others.length - result.notified;
      }

      const sent: string[] = [];
      const failures: { id: string; error: string }[] = [];
      let flushing = Promise.resolve();
      const flush = () => {
        const done = sent.splice(0);
        const failed = failures.splice(0);
        // A failed write leaves its notices `sending`: a retried batch sends them again under the same key.
        flushing = flushing
          .catch(() => undefined)
          .then(async () => {
            if (done.length)
              await query(
                'recording couple notices sent',
                `UPDATE couple_notifications SET status = 'sent', sent_at = now(), last_error = NULL
                WHERE active_crisis_id = ANY($1::bigint[])`,
                [done],
              );
            if (failed.length)
              await query(
                'recording couple notices failed',
                `UPDATE couple_notifications n SET status = 'failed', last_error = f.error
                 FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE n.active_crisis_id = f.id`,
                [failed.map((f) => f.id), failed.map((f) => f.error.slice(0, 500))],
              );
            ctx.heartbeat({ afterId, notified: result.notified, failed: result.failed });
          });
        return flushing;
      };
      const ticker = setInterval(() => void flush().catch(() => undefined), FLUSH_MS);

      const queue = rows.filter((r) => toSend.has(r.id));
      let next = 0;
      const sender = async () => {
        while (next < queue.length && !signal.aborted) {
          const row = queue[next++];
          try {
            await sendWithRetries(row, signal);
            sent.push(row.id);
            result.notified += 1;
          } catch (err) {
            if (signal.aborted) return;
            const error = failureText(err);
            failures.push({ id: row.id, error });
            result.failed += 1;
            result.firstError ??= error;
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, sender));
      } finally {
        clearInterval(ticker);
        await flush();
      }
      if (signal.aborted) throw signal.reason;
      return result;
    },
  };
}

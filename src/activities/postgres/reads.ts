/**
 * PostgreSQL reads: the database probe, the crisis protocol's affected couples, and what the evening performance
 * review and the maintenance checklists read (recommendation feedback, request volume by day, incidents opened).
 * Read-only and parameterised, so always safe to retry.
 */
import { invalidInput } from '../../contracts/failures';
import type { AffectedCouple } from '../../contracts/crisis';
import type { DependencyProbe } from '../../contracts/probes';
import type { AcceptanceSummary, VolumeTrend } from '../../contracts/reviews';
import { DEFAULT_CONNECTION_LIMITS } from './connections';
import { postgresFailure, type PostgresDeps } from './failure';

function hoursOf(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(field, `must be a whole number of hours from 1 to ${max}`);
  }
  return value;
}

const rate = (part: number, whole: number) => (whole === 0 ? undefined : Number((part / whole).toFixed(4)));

export function createReadActivities({ pool, scrollUniversity }: PostgresDeps) {
  const alertRatio = (scrollUniversity ?? DEFAULT_CONNECTION_LIMITS).connectionAlertRatio;
  const query = async <T extends object>(what: string, sql: string, params: unknown[]) => {
    try {
      return (await pool.query<T>(sql, params)).rows;
    } catch (err) {
      throw postgresFailure(err, what);
    }
  };

  return {
    /** seed 002 Evening Performance Review, "Analyze recommendation acceptance rates": from ai_feedback. */
    async recommendationAcceptance(input: { hours?: number } = {}): Promise<AcceptanceSummary> {
      const hours = hoursOf(input.hours ?? 24, 'hours', 24 * 90);
      const rows = await query<{
        period: 'current' | 'previous';
        feedback: string;
        accepted: string;
        rejected: string;
        ignored: string;
        rating: string | null;
      }>(
        'recommendation feedback',
        `SELECT CASE WHEN created_at > now() - make_interval(hours => $1) THEN 'current' ELSE 'previous' END AS period,
                count(*) AS feedback,
                count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
                count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
                count(*) FILTER (WHERE outcome = 'ignored') AS ignored,
                avg(rating) AS rating
           FROM ai_feedback
          WHERE created_at > now() - make_interval(hours => 2 * $1)
          GROUP BY 1`,
        [hours],
      );
      const current = rows.find((r) => r.period === 'current');
      const previous = rows.find((r) => r.period === 'previous');
      const n = (v: string | undefined) => Number(v ?? 0);
      return {
        hours,
        feedback: n(current?.feedback),
        accepted: n(current?.accepted),
        rejected: n(current?.rejected),
        ignored: n(current?.ignored),
        acceptanceRate: rate(n(current?.accepted), n(current?.feedback)),
        averageRating: current?.rating == null ? undefined : Number(Number(current.rating).toFixed(2)),
        previousAcceptanceRate: rate(n(previous?.accepted), n(previous?.feedback)),
      };
    },

    /** "Check resource utilization trends": optimisation requests per day over the last week and today's change. */
    async requestVolumeTrend(input: { days?: number } = {}): Promise<VolumeTrend> {
      const days = input.days ?? 7;
      if (!Number.isInteger(days) || days < 1 || days > 90)
        throw invalidInput('days', 'must be a whole number from 1 to 90');
      const rows = await query<{ day: number; requests: string }>(
        'request volume',
        `SELECT floor(extract(epoch FROM now() - created_at) / 86400)::int AS day, count(*) AS requests
           FROM wedding_optimizations
          WHERE created_at > now() - make_interval(days => $1 + 1)
          GROUP BY 1`,
        [days],
      );
      const byAge = new Map(rows.map((r) => [r.day, Number(r.requests)]));
      const dailyRequests = Array.from({ length: days + 1 }, (_, i) => byAge.get(days - i) ?? 0);
      const today = dailyRequests[days];
      const history = dailyRequests.slice(0, days);
      const baseline = history.some((v) => v > 0) ? history.reduce((a, b) => a + b, 0) / history.length : undefined;
      return {
        dailyRequests,
        today,
        baseline,
        change: baseline ? Number((today / baseline - 1).toFixed(4)) : undefined,
      };
    },

    /** seed 000 Daily Maintenance, "Review overnight alerts": incidents opened, from the audit log. */
    async incidentsOpened(
      input: { hours?: number } = {},
    ): Promise<{ hours: number; incidents: { workflowId: string; at: string }[] }> {
      const hours = hoursOf(input.hours ?? 15, 'hours', 24 * 31);
      const rows = await query<{ workflow_id: string; occurred_at: Date }>(
        'incidents opened',
        `SELECT workflow_id, occurred_at FROM audit_log
          WHERE workflow_type = 'incidentResponse' AND step = 'incident' AND action = 'opened'
            AND occurred_at > now() - make_interval(hours => $1)
          ORDER BY occurred_at`,
        [hours],
      );
      return { hours, incidents: rows.map((r) => ({ workflowId: r.workflow_id, at: r.occurred_at.toISOString() })) };
    },

    /** The seed's query for couples with active crises, parameterised. */
    async findAffectedCouples(req: { withinMinutes?: number } = {}): Promise<AffectedCouple[]> {
      const minutes = req.withinMinutes ?? 60;
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60)
        throw invalidInput('withinMinutes', 'must be 1 to 1440');
      const rows = await query<{ id: string; wedding_id: string; crisis_type: string }>(
        'affected couples',
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
     * seed 000 "Database connectivity" and Issue 6: `SELECT 1` and the connection count from pg_stat_activity; not
     * ok once the connections in use reach DATABASE_CONNECTION_ALERT_RATIO of max_connections.
     */
    async probeDatabase(): Promise<DependencyProbe> {
      const started = performance.now();
      try {
        const { rows } = await pool.query<{ total: string; active: string; max: string }>(
          `SELECT count(*) AS total,
                  count(*) FILTER (WHERE state = 'active') AS active,
                  current_setting('max_connections') AS max
             FROM pg_stat_activity`,
        );
        const row = rows[0];
        const usage = Number(row.total) / Number(row.max);
        return {
          name: 'database',
          ok: usage < alertRatio,
          latencyMs: Math.round(performance.now() - started),
          detail: {
            connections: Number(row.total),
            active: Number(row.active),
            maxConnections: Number(row.max),
            usage: Number(usage.toFixed(4)),
            alertRatio,
          },
        };
      } catch (err) {
        throw postgresFailure(err);
      }
    },
  };
}

/**
 * Schema migrations, applied in order by the administrator role and recorded in schema_migrations. A migration
 * never changes once released: add a new one instead.
 */
export interface Migration {
  id: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: '001_wedsync_ai_tables',
    // The tables seed 002's SQL steps read and clean up.
    sql: `
      CREATE TABLE wedding_optimizations (
        id            bigserial PRIMARY KEY,
        wedding_id    text        NOT NULL,
        wedding_date  date        NOT NULL,
        status        text        NOT NULL CHECK (status IN ('pending', 'active', 'completed', 'failed')),
        quality_score numeric(4,3),
        created_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idx_wedding_opt_created_at ON wedding_optimizations (created_at);
      CREATE INDEX idx_wedding_opt_wedding_date ON wedding_optimizations (wedding_date) WHERE status = 'active';

      CREATE TABLE ai_recommendations (
        id              bigserial PRIMARY KEY,
        optimization_id bigint      NOT NULL,
        confidence      numeric(4,3) NOT NULL,
        accepted        boolean,
        created_at      timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idx_ai_recommendations_optimization ON ai_recommendations (optimization_id, confidence DESC);

      CREATE TABLE ai_feedback (
        id                bigserial PRIMARY KEY,
        recommendation_id bigint      NOT NULL,
        rating            smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
        outcome           text        NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'ignored')),
        created_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idx_ai_feedback_recommendation ON ai_feedback (recommendation_id, created_at DESC);

      CREATE TABLE active_crises (
        id           bigserial PRIMARY KEY,
        wedding_id   text        NOT NULL,
        couple_email text        NOT NULL,
        crisis_type  text        NOT NULL,
        status       text        NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idx_active_crises_status_created ON active_crises (status, created_at);
    `,
  },
  {
    id: '002_audit_log_and_crisis_notifications',
    sql: `
      -- Every decision, escalation and change a workflow makes. event_key makes a retried write a no-op.
      CREATE TABLE audit_log (
        id            bigserial PRIMARY KEY,
        event_key     text        NOT NULL UNIQUE,
        occurred_at   timestamptz NOT NULL,
        recorded_at   timestamptz NOT NULL DEFAULT now(),
        workflow_id   text        NOT NULL,
        workflow_type text        NOT NULL,
        run_id        text        NOT NULL,
        step          text        NOT NULL,
        actor         text        NOT NULL,
        action        text        NOT NULL,
        outcome       text        NOT NULL,
        reason        text,
        duration_ms   integer,
        details       jsonb       NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX idx_audit_log_workflow ON audit_log (workflow_id, occurred_at);
      CREATE INDEX idx_audit_log_occurred_at ON audit_log (occurred_at);

      -- One row per couple and crisis: what makes notifying a couple safe to retry.
      CREATE TABLE crisis_notifications (
        crisis_key       text        NOT NULL,
        active_crisis_id bigint      NOT NULL,
        status           text        NOT NULL CHECK (status IN ('sending', 'sent')),
        attempts         integer     NOT NULL DEFAULT 0,
        sent_at          timestamptz,
        PRIMARY KEY (crisis_key, active_crisis_id)
      );
    `,
  },
  {
    id: '003_maintenance_analyze_function',
    // ANALYZE needs table ownership (PostgreSQL 15) and the worker's role owns nothing, so the Sunday window's
    // ANALYZE runs through this owner-defined function. It takes no arguments and names its tables, so anyone
    // allowed to call it can do no more than refresh these three tables' statistics.
    sql: `
      CREATE FUNCTION analyze_ai_tables() RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ ANALYZE public.wedding_optimizations, public.ai_recommendations, public.ai_feedback $$;
    `,
  },
  {
    id: '004_crisis_takeover',
    // The crisis protocol at platform scope: a run takes over an active crisis by marking it (so the AI's recovery
    // and any other run leave it alone), and each active crisis's couple is told once, whichever run reaches it.
    sql: `
      ALTER TABLE active_crises ADD COLUMN taken_over_by text, ADD COLUMN taken_over_at timestamptz;
      CREATE INDEX idx_active_crises_taken_over ON active_crises (taken_over_by, id) WHERE taken_over_by IS NOT NULL;

      CREATE TABLE couple_notifications (
        active_crisis_id bigint      PRIMARY KEY,
        status           text        NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
        notified_by      text        NOT NULL,
        attempts         integer     NOT NULL DEFAULT 1,
        claimed_at       timestamptz NOT NULL DEFAULT now(),
        last_error       text,
        sent_at          timestamptz
      );
    `,
  },
  {
    id: '006_model_retraining',
    // The A/B test reads acceptance per model version, so every feedback row says which model served it (rows from
    // before carry none and count for no version). model_versions records each retrained model: where its
    // artifacts are, its evaluation, the A/B evidence and the decision; one row per version makes a retried write
    // an update of the same row.
    sql: `
      ALTER TABLE ai_feedback ADD COLUMN model_version text;
      CREATE INDEX idx_ai_feedback_model_version ON ai_feedback (model_version, created_at) WHERE model_version IS NOT NULL;

      CREATE TABLE model_versions (
        version        text        PRIMARY KEY,
        workflow_id    text        NOT NULL,
        artifacts_uri  text        NOT NULL,
        data_manifest  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        evidence       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        decision       text        NOT NULL CHECK (decision IN ('promoted', 'rolled-back', 'kept-current', 'rejected', 'cancelled')),
        decided_by     text        NOT NULL,
        reason         text,
        decided_at     timestamptz NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idx_model_versions_promoted ON model_versions (decided_at DESC) WHERE decision = 'promoted';
    `,
  },
  {
    id: '007_retention_batches',
    // The retention delete's count, kept where the deletion happens: each batch's DELETE writes its row count here
    // in the same statement, so a batch whose reply was lost (committed, then the connection dropped) is still
    // counted, and the delete's result sums what its attempts actually removed. Rows older than 30 days are removed
    // by the next delete.
    sql: `
      CREATE TABLE retention_batches (
        id          bigserial   PRIMARY KEY,
        run_key     text        NOT NULL,
        from_key    bigint      NOT NULL,
        to_key      bigint      NOT NULL,
        deleted     integer     NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idx_retention_batches_run ON retention_batches (run_key);
      CREATE INDEX idx_retention_batches_recorded ON retention_batches (recorded_at);
    `,
  },
];

/** Table → privileges of the worker's role. The audit log is append-only for it: no UPDATE, no DELETE. */
export const APP_GRANTS: Record<string, string> = {
  wedding_optimizations: 'SELECT, INSERT, UPDATE, DELETE',
  ai_recommendations: 'SELECT, INSERT, UPDATE, DELETE',
  ai_feedback: 'SELECT, INSERT, UPDATE, DELETE',
  active_crises: 'SELECT, INSERT, UPDATE, DELETE',
  audit_log: 'SELECT, INSERT',
  crisis_notifications: 'SELECT, INSERT, UPDATE',
  couple_notifications: 'SELECT, INSERT, UPDATE',
  model_versions: 'SELECT, INSERT, UPDATE',
  retention_batches: 'SELECT, INSERT, DELETE',
};

/** Tables with a bigserial id whose sequence the role needs for INSERT. */
export const APP_SEQUENCES = [
  'wedding_optimizations',
  'ai_recommendations',
  'ai_feedback',
  'active_crises',
  'audit_log',
  'retention_batches',
];

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
];

/** Tables the worker's role reads and changes; everything else it is granted explicitly, per table. */
export const APP_TABLES = ['wedding_optimizations', 'ai_recommendations', 'ai_feedback', 'active_crises'];

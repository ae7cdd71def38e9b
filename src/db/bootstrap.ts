/**
 * Creates the application's database, role and schema on a PostgreSQL server, idempotently, using an
 * administrator connection. The worker then connects as the application role, which owns nothing and holds
 * only the grants listed here.
 */
import { Client } from 'pg';
import { APP_GRANTS, APP_SEQUENCES, MIGRATIONS } from './migrations';

export interface BootstrapTarget {
  /** Administrator connection to the server's maintenance database (postgres). */
  adminUrl: string;
  /** The application's DATABASE_URL: its user, password and database are created as named. */
  appUrl: string;
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`"${name}" is not a plain lowercase SQL identifier`);
  return `"${name}"`;
};

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function bootstrapDatabase(target: BootstrapTarget): Promise<{ applied: string[] }> {
  const app = new URL(target.appUrl);
  const role = decodeURIComponent(app.username);
  const password = decodeURIComponent(app.password);
  const database = app.pathname.replace(/^\//, '');

  await withClient(target.adminUrl, async (c) => {
    const roleExists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    // Passwords cannot be bound as parameters in DDL; format() quotes the literal server-side.
    const { rows } = await c.query<{ sql: string }>('SELECT format($1::text, $2::text) AS sql', [
      `${roleExists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${ident(role)} LOGIN PASSWORD %L`,
      password,
    ]);
    await c.query(rows[0].sql);
    const dbExists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!dbExists.rowCount) await c.query(`CREATE DATABASE ${ident(database)}`);
  });

  const adminOnApp = new URL(target.adminUrl);
  adminOnApp.pathname = `/${database}`;
  return withClient(adminOnApp.toString(), async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await c.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw new Error(`migration ${m.id} failed: ${(err as Error).message}`);
      }
      applied.push(m.id);
    }
    // seed 002 Issue 1's slow-query check reads pg_stat_statements: installed where the server has the extension
    // (PostgreSQL's contrib; the local stack and docker-compose also preload it), skipped where it has not, so a
    // server without it still bootstraps and the check reports the extension missing.
    const available = await c.query('SELECT 1 FROM pg_available_extensions WHERE name = $1', ['pg_stat_statements']);
    if (available.rowCount) await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(role)}`);
    await c.query(`GRANT USAGE ON SCHEMA public TO ${ident(role)}`);
    for (const [table, privileges] of Object.entries(APP_GRANTS)) {
      // REVOKE first so a privilege taken away in APP_GRANTS is taken away on existing databases too.
      await c.query(`REVOKE ALL ON ${ident(table)} FROM ${ident(role)}`);
      await c.query(`GRANT ${privileges} ON ${ident(table)} TO ${ident(role)}`);
    }
    for (const table of APP_SEQUENCES) {
      await c.query(`GRANT USAGE, SELECT ON SEQUENCE ${ident(`${table}_id_seq`)} TO ${ident(role)}`);
    }
    return { applied };
  });
}

/** Demo rows for the local stack, inserted once into empty tables so the runbooks have something to act on. */
export async function seedDemoData(adminAppUrl: string): Promise<boolean> {
  return withClient(adminAppUrl, async (c) => {
    const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM wedding_optimizations');
    if (Number(rows[0].n) > 0) return false;
    await c.query('BEGIN');
    await c.query(`
      INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score, created_at)
      SELECT 'wedding-' || g,
             DATE '2026-06-01' + (g % 180),
             CASE WHEN g % 500 = 7 THEN 'failed' ELSE (ARRAY['pending','active','completed','completed'])[1 + (g / 7) % 4] END,
             0.5 + (g % 50) / 100.0,
             now() - make_interval(days => g % 200)
        FROM generate_series(1, 2000) AS g`);
    await c.query(`
      INSERT INTO ai_recommendations (optimization_id, confidence, accepted, created_at)
      SELECT 1 + g % 2000, 0.5 + (g % 50) / 100.0, g % 10 <> 0, now() - make_interval(hours => g % 72)
        FROM generate_series(1, 6000) AS g`);
    await c.query(`
      INSERT INTO ai_feedback (recommendation_id, rating, outcome, created_at)
      SELECT 1 + g % 6000, 1 + g % 5, CASE WHEN g % 10 = 0 THEN 'rejected' ELSE 'accepted' END,
             now() - make_interval(hours => g % 48)
        FROM generate_series(1, 3000) AS g`);
    await c.query(`
      INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
      VALUES ('wedding-17', 'ana.and.ben@example.com', 'vendor_cancellation', 'ai_processing', now() - interval '10 minutes'),
             ('wedding-42', 'cleo.and.dev@example.com', 'weather', 'resolved', now() - interval '3 hours')`);
    await c.query('COMMIT');
    return true;
  });
}

/**
 * Each test file owns its data: a database of its own on the test server, created and migrated on first use.
 * Only the database `npm test` made for the run (DATABASE_URL naming aiops_test) is a base for them: a database
 * the operator configured is never created in, emptied or filled.
 */
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';

const RUNNER_DATABASE = '/aiops_test';

export async function testDatabase(name: string): Promise<string> {
  if (!/^aiops_test_[a-z0-9_]+$/.test(name))
    throw new Error(`test database "${name}" must be named aiops_test_<suite>`);
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://unset/');
  if (base.pathname !== RUNNER_DATABASE) {
    throw new Error(
      `refusing to set up test data: DATABASE_URL names ${base.pathname.slice(1) || 'nothing'}, not the aiops_test database npm test makes; ` +
        'tests never write to a database the operator configured',
    );
  }
  const appUrl = new URL(base);
  appUrl.pathname = `/${name}`;
  const adminUrl = localPostgresAdminUrl();
  // Parallel test files bootstrap at once and may collide on ALTER ROLE ("tuple concurrently updated").
  for (let attempt = 1; ; attempt++) {
    try {
      await bootstrapDatabase({ adminUrl, appUrl: appUrl.toString() });
      return appUrl.toString();
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

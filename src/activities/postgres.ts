/** PostgreSQL activities (the runbooks' `psql` steps). Every statement is parameterised. */
import { createConnectionActivities } from './postgres/connections';
import { createReadActivities } from './postgres/reads';
import { createRetentionActivities } from './postgres/retention';
import { createStatementActivities } from './postgres/statements';
import type { PostgresDeps } from './postgres/failure';

export type { PostgresDeps } from './postgres/failure';
export { postgresFailure } from './postgres/failure';
export { ANALYZED_TABLES } from './postgres/retention';

export function createPostgresActivities(deps: PostgresDeps) {
  return {
    ...createRetentionActivities(deps),
    ...createReadActivities(deps),
    ...createConnectionActivities(deps),
    ...createStatementActivities(deps),
  };
}

/** seed 000 Issue 6: what pg_stat_activity says about the database's connections. Types only. */

export interface LongRunningQuery {
  pid: number;
  user?: string;
  application?: string;
  state: string;
  /** When the query started (ISO); with the pid it names the query, since a pid can be reused. */
  queryStart: string;
  seconds: number;
  /** The first characters of the query's text. */
  preview: string;
}

export interface ConnectionReport {
  connections: number;
  active: number;
  idleInTransaction: number;
  maxConnections: number;
  /** connections / maxConnections. */
  usage: number;
  alertRatio: number;
  /** usage at or above alertRatio: the pool is (nearly) exhausted. */
  exhausted: boolean;
  longQuerySeconds: number;
  longRunning: LongRunningQuery[];
}

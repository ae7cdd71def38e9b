/** seed 002 Issue 1, Database Optimization: what `pg_stat_statements` says are the slowest statements. Types only. */

export interface SlowStatement {
  /** The normalised statement (constants are `$n` placeholders), cut to its first characters. */
  query: string;
  calls: number;
  /** Milliseconds per call and in total since the statistics were last reset. */
  meanTimeMs: number;
  totalTimeMs: number;
}

export type SlowStatementsReport =
  | { available: true; statements: SlowStatement[] }
  /** The extension is not installed in this database, or not preloaded by the server: why, in plain words. */
  | { available: false; reason: string };

/**
 * A backup restored into a throwaway database and checked against its manifest, then the database dropped: the
 * restore drill (verifyBackup) and the monthly disaster recovery drill both prove a backup this way.
 */
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { backupChecks, restoreIntoScratch } from '../policies';
import { thisRunPiece } from '../common/run-stamp';

/** A scratch database's name: the backup and this run, so a retry reuses it and no two drills share one. */
export const throwawayDatabaseName = (backupId: string) =>
  `aiops_restore_${backupId.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${thisRunPiece()}`;

export interface ThrowawayRestore {
  ok: boolean;
  problems: string[];
  tables: number;
  rows: number;
  restoreMs: number;
}

/** Restores the backup into `database` and compares every table with the manifest; a failure is a problem, not a throw. */
export async function restoreAndCheck(backupId: string, database: string): Promise<ThrowawayRestore> {
  const outcome: ThrowawayRestore = { ok: false, problems: [], tables: 0, rows: 0, restoreMs: 0 };
  try {
    const restored = await restoreIntoScratch({
      backupId,
      target: { database },
      workflowId: workflowInfo().workflowId,
    });
    outcome.restoreMs = restored.restoreMs;
    const check = await backupChecks.checkRestoredDatabase({ backupId, database });
    outcome.ok = check.ok;
    outcome.problems = check.problems;
    outcome.tables = check.tables.length;
    outcome.rows = check.tables.reduce((n, t) => n + (t.restored ?? 0), 0);
  } catch (err) {
    outcome.problems = [failureText(err)];
  }
  return outcome;
}

/** Drops the throwaway database whatever happened, a cancelled drill included; returns the problem, if any. */
export async function dropThrowaway(database: string): Promise<string | undefined> {
  return CancellationScope.nonCancellable(async () => {
    try {
      await backupChecks.dropScratchDatabase({ database });
      return undefined;
    } catch (err) {
      return `scratch database ${database} not dropped: ${failureText(err)}`;
    }
  });
}

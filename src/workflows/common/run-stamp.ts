/**
 * This run's piece of its run id and its backup-style id (contracts run-ids, backupIdFor), for the names it gives
 * what it makes. A run begun before the names took the run id's tail keeps the head: what it already made is named
 * by it. Each caller computes its name once and keeps it, because patched() only answers "before" while replaying.
 */
import { patched, workflowInfo } from '@temporalio/workflow';
import { backupIdFor } from '../../contracts/backups';
import { runIdPiece, type RunIdPiece } from '../../contracts/run-ids';

export const RUN_ID_TAIL_PATCH = 'run-id-tail';

const piece = (): RunIdPiece => (patched(RUN_ID_TAIL_PATCH) ? 'tail' : 'head');

export const thisRunPiece = (): string => runIdPiece(workflowInfo().runId, piece());

export function runStampId(): string {
  const { startTime, runId } = workflowInfo();
  return backupIdFor(startTime, runId, piece());
}

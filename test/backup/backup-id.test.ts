/**
 * Backup ids (contracts backupIdFor): two runs started within the same second never share one, and runs recorded
 * before the id took the run id's tail keep the head they wrote their objects under.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { backupIdFor, backupIdSchema } from '../../src/contracts/backups';

const HISTORIES = join(__dirname, '..', '..', '..', 'test', 'histories');

describe('backup ids', () => {
  // Version 7 UUIDs as the dev server hands out: the first 48 bits are the start time in milliseconds.
  const sameSecond = ['01a21ada-5c10-7a2e-9d18-e51334d73d56', '01a21ada-5e42-7b91-a4e1-1cb4c6c3e63b'];
  const at = new Date('2026-11-27T02:34:08.120Z');

  it('differ for two runs started within the same second, and are valid backup ids', () => {
    const [first, second] = sameSecond.map((runId) => backupIdFor(at, runId));
    assert.equal(first, '20261127T023408Z-34d73d56');
    assert.notEqual(first, second);
    for (const id of [first, second]) assert.equal(backupIdSchema.safeParse(id).success, true, id);
    // The head alone would have given both the same id.
    assert.equal(backupIdFor(at, sameSecond[0], 'head'), backupIdFor(at, sameSecond[1], 'head'));
  });

  for (const [file, activity] of [
    ['modelBackup@record-models-4657fa83-b9e6-46d5-af13-28b40c5bc90f.json', 'backupModels'],
    ['databaseBackup@record-backup-d51036ec-e566-40a3-8c87-f1658b4e312a.json', 'dumpDatabase'],
  ]) {
    it(`are the run id's head in ${file.split('@')[0]} recorded before the change`, () => {
      const events = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'))).events ?? [];
      const started = events[0].workflowExecutionStartedEventAttributes!;
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
      const input = JSON.parse(
        Buffer.from(scheduled!.activityTaskScheduledEventAttributes!.input!.payloads![0].data!).toString(),
      ) as { backupId: string };
      const startedAt = new Date(Number(events[0].eventTime!.seconds) * 1000 + events[0].eventTime!.nanos! / 1e6);
      assert.equal(input.backupId, backupIdFor(startedAt, started.originalExecutionRunId!, 'head'));
      assert.notEqual(input.backupId, backupIdFor(startedAt, started.originalExecutionRunId!));
    });
  }
});

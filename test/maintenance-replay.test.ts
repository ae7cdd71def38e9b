import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from './helpers/temporal';

// Apart from test/histories/ itself, whose replay test lists the workflow types it expects there.
const HISTORIES = join(__dirname, '..', '..', 'test', 'histories', 'maintenance');

describe('replay of recorded maintenance histories', () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

  it('has a recorded history for each maintenance workflow', () => {
    assert.deepEqual(files.map((f) => f.split('@')[0]).sort(), ['pruneOptimizations', 'purgeCache']);
  });

  for (const file of files) {
    it(`replays ${file} without non-determinism`, async () => {
      quietRuntime();
      const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')));
      assert.ok((history.events ?? []).length > 5);
      const workflowId = file.slice(file.indexOf('@') + 1, -'.json'.length);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    });
  }
});

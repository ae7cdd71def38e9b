import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import * as workflows from '../src/workflows';
import { quietRuntime, workflowBundle } from './helpers/temporal';

const HISTORIES = join(__dirname, '..', '..', 'test', 'histories');

describe('replay of recorded histories', () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

  it('has a recorded history for every workflow type the worker runs', () => {
    const recorded = new Set(files.map((f) => f.split('@')[0]));
    assert.deepEqual(
      Object.keys(workflows).filter((type) => !recorded.has(type)),
      [],
    );
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

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LOG_DIR } from '../../scripts/lib/paths';
import { logLine } from '../../src/workers/telemetry';

const at = BigInt(Date.parse('2026-11-25T10:00:00.123Z')) * 1_000_000n;

describe("the worker's logs", () => {
  it('write each entry as one line of JSON with the run it came from', () => {
    const workflowLine = logLine({
      level: 'WARN',
      message: 'crisis manager failed again',
      timestampNanos: at,
      meta: { workflowId: 'crisis-watch', runId: 'r-1', workflowType: 'crisisManagerWatch', namespace: 'default' },
    });
    assert.equal(workflowLine.split('\n').length, 2);
    assert.deepEqual(JSON.parse(workflowLine), {
      time: '2026-11-25T10:00:00.123Z',
      level: 'warn',
      message: 'crisis manager failed again',
      workflowId: 'crisis-watch',
      runId: 'r-1',
      workflowType: 'crisisManagerWatch',
      namespace: 'default',
    });
    const activity = JSON.parse(
      logLine({
        level: 'WARN',
        message: 'Activity failed',
        timestampNanos: at,
        meta: {
          activityType: 'purgeKeys',
          attempt: 3,
          workflowId: 'purge-1',
          workflowRunId: 'r-2',
          error: new Error('connect ECONNREFUSED\nsecond line'),
        },
      }),
    ) as Record<string, unknown>;
    assert.equal(activity.activityType, 'purgeKeys');
    assert.equal(activity.attempt, 3);
    assert.equal(activity.workflowRunId, 'r-2');
    assert.deepEqual(activity.error, { name: 'Error', message: 'connect ECONNREFUSED\nsecond line' });
  });

  it('are all JSON lines in the running worker, from its start on', () => {
    const lines = readFileSync(join(LOG_DIR, 'worker.log'), 'utf8').split('\n').filter(Boolean);
    const isStart = (l: string) => l.startsWith('{') && l.includes('"message":"worker polling"');
    const started = lines.length - 1 - [...lines].reverse().findIndex(isStart);
    assert.ok(lines.some(isStart), 'the worker wrote its start line');
    const since = lines.slice(started);
    for (const line of since) assert.doesNotThrow(() => JSON.parse(line), line);
    const startLine = JSON.parse(since[0]) as Record<string, string>;
    assert.match(startLine.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.match(startLine.alertReceiver, /\/alerts\/alertmanager$/);
  });
});

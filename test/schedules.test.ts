import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { registerSchedules } from '../src/schedules/register';
import { SCHEDULES, type ScheduleDefinition } from '../src/schedules/table';
import { devServerEnv, uniqueId } from './helpers/temporal';

describe('schedules', () => {
  let env: TestWorkflowEnvironment;
  const created: string[] = [];

  before(async () => {
    // A dev server of its own: schedules registered here must not fire on the shared stack.
    env = await devServerEnv({ own: true });
  });
  after(async () => {
    for (const id of created) await env.client.schedule.getHandle(id).delete().catch(() => undefined);
    await env?.teardown();
  });

  it('runs the morning health check at 09:00 GMT, skipping overlaps', () => {
    const morning = SCHEDULES.find((s) => s.workflowType === 'morningHealthCheck');
    assert.ok(morning);
    assert.equal(morning.cron, '0 9 * * *');
    assert.equal(morning.timezone, 'UTC');
    assert.equal(morning.overlap, 'SKIP');
  });

  it('registers idempotently: a second registration updates instead of duplicating', async () => {
    const def: ScheduleDefinition = { ...SCHEDULES[0], scheduleId: uniqueId('test-morning') };
    created.push(def.scheduleId);
    const first = await registerSchedules(env.client, [def], 'aiops-runbooks-test');
    const second = await registerSchedules(env.client, [{ ...def, cron: '30 9 * * *' }], 'aiops-runbooks-test');
    assert.deepEqual(first.map((r) => r.outcome), ['created']);
    assert.deepEqual(second.map((r) => r.outcome), ['updated']);

    const matching = [];
    for await (const s of env.client.schedule.list()) if (s.scheduleId === def.scheduleId) matching.push(s);
    assert.equal(matching.length, 1);

    const described = await env.client.schedule.getHandle(def.scheduleId).describe();
    assert.equal(described.policies.overlap, 'SKIP');
    assert.equal(described.spec.timezone, 'UTC');
    // The update replaced the spec: the next run is at 09:30 UTC.
    const next = described.info.nextActionTimes[0];
    assert.equal(next.getUTCHours(), 9);
    assert.equal(next.getUTCMinutes(), 30);
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.type === 'startWorkflow' && described.action.workflowType, 'morningHealthCheck');
  });

  it('keeps a paused schedule paused when it is registered again', async () => {
    const def: ScheduleDefinition = { ...SCHEDULES[0], scheduleId: uniqueId('test-paused') };
    created.push(def.scheduleId);
    await registerSchedules(env.client, [def], 'aiops-runbooks-test');
    await env.client.schedule.getHandle(def.scheduleId).pause('maintenance freeze');
    await registerSchedules(env.client, [def], 'aiops-runbooks-test');
    const described = await env.client.schedule.getHandle(def.scheduleId).describe();
    assert.equal(described.state.paused, true);
  });
});

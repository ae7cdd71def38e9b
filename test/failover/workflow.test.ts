/**
 * failoverAiIngress and failbackAiIngress against the Kubernetes API server: the gate, the target's health before
 * and after the switch, and what people are told.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { failbackAiIngress, failoverAiIngress } from '../../src/workflows';
import { ingressSwitchStatusQuery } from '../../src/workflows/failover/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { HEALTHY_BODY, type ScriptedResponse } from '../helpers/http-receiver';
import { aiIngressBackend, aiIngressTo, testCluster, type TestCluster } from '../helpers/kube';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';

const UNHEALTHY = { status: 503, body: { status: 'down', error: 'no model loaded' } };

describe('manual failover and failback of the AI ingress', () => {
  let cluster: TestCluster;
  const health: Record<'primary' | 'backup', ScriptedResponse> = {
    primary: { status: 200, body: HEALTHY_BODY },
    backup: { status: 200, body: HEALTHY_BODY },
  };
  const suite = runbookSuite('aiops_test_failover', async (receiver) => {
    cluster = await testCluster('aiops-failover');
    receiver.route('/primary/health', () => health.primary);
    receiver.route('/backup/health', () => health.backup);
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      WEDSYNC_PRIMARY_HEALTH_URL: receiver.url('/primary/health'),
      WEDSYNC_BACKUP_HEALTH_URL: receiver.url('/backup/health'),
    };
  });
  after(async () => cluster?.destroy());

  /** The ingress as seed 002 has it: /ai/ to the primary. */
  async function freshIngress(service = 'ai-optimization-engine') {
    health.primary = { status: 200, body: HEALTHY_BODY };
    health.backup = { status: 200, body: HEALTHY_BODY };
    await aiIngressTo(cluster, service);
  }
  const backendNow = () => aiIngressBackend(cluster);

  const start = (workflow: typeof failoverAiIngress) =>
    suite.env.client.workflow.start(workflow, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('ai-switch'),
      args: [{ requestedBy: 'oncall', reason: 'primary AI service down' }],
    });
  const decide = (handle: WorkflowHandle, gate: string, decision: 'approve' | 'reject', by = 'ai-lead') =>
    handle.executeUpdate(decideUpdate, { args: [{ gate, decision, by, reason: `${decision} in test` }] });
  const awaitGate = (handle: WorkflowHandle) =>
    queryUntil(handle, ingressSwitchStatusQuery, (s) => s.step === 'awaiting-approval', 30_000);

  suite.test(
    'fails over once approved: the backup checked before and after, the ingress switched, people told',
    async () => {
      await freshIngress();
      const handle = await start(failoverAiIngress);
      const waiting = await awaitGate(handle);
      assert.equal(waiting.gates[0].gate, 'failover');
      assert.equal(await backendNow(), 'ai-optimization-engine', 'nothing switched before the approval');
      await decide(handle, 'failover', 'approve');
      const result = await handle.result();
      assert.equal(await backendNow(), 'ai-backup-services');
      assert.deepEqual(result.from, { service: 'ai-optimization-engine', port: 80 });
      assert.deepEqual(result.to, { service: 'ai-backup-services', port: 80 });
      assert.equal(result.approvedBy, 'ai-lead');
      assert.ok(result.before.healthy && result.after.healthy);
      // Before the gate, again after the approval, and after the switch.
      assert.equal(suite.receiver.callsTo('/backup/health'), 3);
      assert.ok(slackTexts(suite.receiver).some((t) => /ai-backup-services healthy after the switch/.test(t)));
    },
  );

  suite.test('a rejected failover switches nothing and says who refused', async () => {
    await freshIngress();
    const handle = await start(failoverAiIngress);
    await awaitGate(handle);
    await decide(handle, 'failover', 'reject', 'platform');
    await rejectsWithCause(handle.result(), /not approved by platform: reject in test/);
    assert.equal(await backendNow(), 'ai-optimization-engine');
    assert.ok(slackTexts(suite.receiver).some((t) => /not approved by platform/.test(t)));
  });

  suite.test('refuses an unhealthy backup before asking anyone', async () => {
    await freshIngress();
    health.backup = UNHEALTHY;
    const handle = await start(failoverAiIngress);
    await rejectsWithCause(
      handle.result(),
      /refused: the backup service is not healthy before the switch was asked for/,
    );
    const status = await handle.query(ingressSwitchStatusQuery);
    assert.equal(status.step, 'refused');
    assert.deepEqual(status.gates, []);
    assert.equal(await backendNow(), 'ai-optimization-engine');
  });

  suite.test('refuses a backup that went unhealthy while people decided', async () => {
    await freshIngress();
    const handle = await start(failoverAiIngress);
    await awaitGate(handle);
    health.backup = UNHEALTHY;
    await decide(handle, 'failover', 'approve');
    await rejectsWithCause(handle.result(), /not healthy after the approval/);
    assert.equal(await backendNow(), 'ai-optimization-engine');
  });

  suite.test('fails back to the primary once approved, checking it first', async () => {
    await freshIngress('ai-backup-services');
    const handle = await start(failbackAiIngress);
    const waiting = await awaitGate(handle);
    assert.equal(waiting.gates[0].gate, 'failback');
    await decide(handle, 'failback', 'approve', 'platform');
    const result = await handle.result();
    assert.equal(await backendNow(), 'ai-optimization-engine');
    assert.equal(result.direction, 'failback');
    assert.deepEqual(result.from, { service: 'ai-backup-services', port: 80 });
  });

  suite.test('a target unhealthy after the switch pages and leaves the switch in place', async () => {
    await freshIngress();
    const handle = await start(failoverAiIngress);
    await awaitGate(handle);
    let probesAfterApproval = 0;
    suite.receiver.route('/backup/health', () =>
      ++probesAfterApproval === 1 ? { status: 200, body: HEALTHY_BODY } : UNHEALTHY,
    );
    try {
      await decide(handle, 'failover', 'approve');
      const result = await handle.result();
      assert.equal(result.after.healthy, false);
      assert.equal(await backendNow(), 'ai-backup-services');
      const pages = pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger');
      assert.ok(
        pages.some((p) => /NOT healthy after the switch/.test(p.payload?.summary ?? '')),
        JSON.stringify(pages),
      );
    } finally {
      suite.receiver.route('/backup/health', () => health.backup);
    }
  });

  suite.test('refuses input without a reason, naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(failoverAiIngress, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ai-switch'),
        args: [{ requestedBy: 'oncall' } as never],
      }),
      /^reason: is required$/,
    );
  });
});

/**
 * aiServiceFailuresRemediation against the API server (a namespace of this file's own for seed 000's `production`)
 * and a demo API of this file's own: error rates and pod logs, the restart, and when errors persist the fallback
 * model in the ConfigMap, a P1 incident and a page.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { aiServiceFailuresRemediation } from '../../src/workflows';
import { MODEL_CONFIGMAP, scrollUniversitySuite } from '../helpers/scrolluniversity';
import { rejectsWithCause } from '../helpers/temporal';

describe('aiServiceFailuresRemediation (seed 000 Issue 3)', () => {
  const su = scrollUniversitySuite('su-failures');
  const input = { requestedBy: 'oncall', settleSeconds: 60, rolloutTimeoutSeconds: 120 };
  const activeModel = async () =>
    (await su.cluster().core.readNamespacedConfigMap({ name: MODEL_CONFIGMAP, namespace: su.cluster().namespace }))
      .data?.['model.active'];

  su.suite.test('restarts the failing service and sees the error rate back under 1 %', async () => {
    const result = await su.runAgainstRestarts(aiServiceFailuresRemediation, { ...input, severity: 'P2' }, 'failing');
    assert.equal(result.outcome, 'fixed');
    assert.deepEqual(result.before, { errorRate: 0.2 });
    assert.deepEqual(result.after, { errorRate: 0.002 });
    assert.ok(result.findings.some((f) => /OpenAI API returned 500 ×240/.test(f)));
    assert.equal(await activeModel(), 'gpt-4o');
  });

  su.suite.test('errors that persist switch to the fallback model, open a P1 incident and page', async () => {
    const result = await su.runAgainstRestarts(
      aiServiceFailuresRemediation,
      { ...input, severity: 'P2' },
      'failing',
      true,
    );
    assert.equal(result.outcome, 'escalated');
    assert.equal(await activeModel(), 'claude-3-5-haiku');
    assert.ok(
      result.actions.includes('switched ai-gateway-service to the fallback model claude-3-5-haiku (was gpt-4o)'),
    );
    assert.equal(result.incident?.outcome, 'opened');
    const incident = su.suite.env.client.workflow.getHandle(result.incident!.workflowId);
    assert.equal((await incident.describe()).type, 'incidentResponse');
    await incident.terminate('test over');
    assert.ok(su.pages().some((p) => /error rate still 0\.2 after restarting ai-gateway-service/.test(p)));
  });

  su.suite.test('P1: a refusal at the gate restarts nothing', async () => {
    const result = await su.decideAtGate(aiServiceFailuresRemediation, { ...input, severity: 'P1' }, 'failing', {
      gate: 'restart-service',
      decision: 'reject',
      by: 'ai-lead',
      reason: 'provider outage, not ours',
    });
    assert.equal(result.outcome, 'refused');
    assert.equal(await su.restartedAt(), undefined);
  });

  su.suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(
      su.run(aiServiceFailuresRemediation, { ...input, extra: 1 } as never),
      /^extra: is not a field of aiServiceFailuresRemediation input/,
    );
  });
});

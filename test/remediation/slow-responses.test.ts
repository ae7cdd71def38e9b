/**
 * slowAiResponsesRemediation against the API server (a namespace of this file's own for seed 000's `production`)
 * and a demo API of this file's own: the gateway restarted, behind the gate for P1, the average read again; a slow
 * condition that survives the restart pages; a refusal at the gate changes nothing.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { slowAiResponsesRemediation } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { remediationStatusQuery } from '../../src/workflows/remediation/messages';
import { playDeploymentController } from '../helpers/kube';
import { scrollUniversitySuite } from '../helpers/scrolluniversity';
import { queryUntil, rejectsWithCause } from '../helpers/temporal';

describe('slowAiResponsesRemediation (seed 000 Issue 2)', () => {
  const su = scrollUniversitySuite('su-slow');
  const input = { requestedBy: 'oncall', settleSeconds: 60, rolloutTimeoutSeconds: 120 };

  su.suite.test('P2: restarts the gateway without a gate and sees the average back under 3 s', async () => {
    const result = await su.runAgainstRestarts(slowAiResponsesRemediation, { ...input, severity: 'P2' }, 'slow');
    assert.equal(result.outcome, 'fixed');
    assert.equal(result.before.avgResponseMs, 12000);
    assert.equal(result.after?.avgResponseMs, 250);
    assert.deepEqual(result.actions, [`restarted ${su.cluster().namespace}/ai-gateway-service`]);
    assert.ok(await su.restartedAt());
    assert.ok(result.findings.some((f) => /providers: openai degraded_performance/.test(f)));
  });

  su.suite.test('P1: restarts once approved; a slowness the restart does not clear pages', async () => {
    await su.freshGateway();
    await su.setCondition('slow', true);
    const controller = playDeploymentController(su.cluster());
    try {
      const handle = await su.start(slowAiResponsesRemediation, { ...input, severity: 'P1' });
      await queryUntil(
        handle,
        remediationStatusQuery,
        (s) => s.gates.some((g) => g.gate === 'restart-gateway'),
        30_000,
      );
      assert.equal(await su.restartedAt(), undefined, 'nothing restarts before the approval');
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'restart-gateway', decision: 'approve', by: 'ai-lead', reason: 'go' }],
      });
      const result = await handle.result();
      assert.equal(result.outcome, 'escalated');
      assert.equal(result.after?.avgResponseMs, 12000);
      assert.ok(await su.restartedAt());
      assert.ok(su.pages().some((p) => /average response still 12000 ms after restarting ai-gateway-service/.test(p)));
    } finally {
      await controller.stop();
    }
  });

  su.suite.test('P1: a refusal at the gate restarts nothing and tells the responders', async () => {
    const result = await su.decideAtGate(slowAiResponsesRemediation, { ...input, severity: 'P1' }, 'slow', {
      gate: 'restart-gateway',
      decision: 'reject',
      by: 'oncall',
      reason: 'exam in progress',
    });
    assert.equal(result.outcome, 'refused');
    assert.equal(await su.restartedAt(), undefined);
    assert.ok(
      su.messages().some((t) => /restart of ai-gateway-service not approved by oncall: exam in progress/.test(t)),
    );
  });

  su.suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(
      su.run(slowAiResponsesRemediation, { ...input, deployment: 'Gateway!' }),
      /^deployment: must be a Kubernetes name/,
    );
  });
});

/**
 * Hostile decisions at the gates of ScrollUniversity's remediations (src/workflows/remediation/, the shared
 * RemediationRun gate), run as their own tests run them: a Kubernetes namespace and a demo API of this file's own
 * (test/helpers/scrolluniversity.ts). Each gate is bombarded and sent forged decisions while it waits; none decides
 * it or fails a workflow task, and one valid decision then takes the run where it should.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { aiServiceFailuresRemediation, slowAiResponsesRemediation } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { assaultGate, workflowTaskFailures } from '../helpers/hostile';
import { playDeploymentController } from '../helpers/kube';
import { scrollUniversitySuite } from '../helpers/scrolluniversity';
import { replayOwnHistory } from '../helpers/temporal';

describe('the remediations gates against hostile decisions', () => {
  const su = scrollUniversitySuite('gates-su');
  const input = { requestedBy: 'oncall', severity: 'P1' as const, settleSeconds: 60, rolloutTimeoutSeconds: 120 };

  su.suite.test(
    'slowAiResponsesRemediation refuses them all, then restarts the gateway once approved and sees it fixed',
    async () => {
      await su.freshGateway();
      await su.setCondition('slow');
      const controller = playDeploymentController(su.cluster());
      try {
        const handle = await su.start(slowAiResponsesRemediation, input);
        await assaultGate(su.suite.env, handle, { gate: 'restart-gateway', by: 'ai-lead' });
        assert.equal(await su.restartedAt(), undefined, 'nothing sent restarted the gateway');
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'restart-gateway', decision: 'approve', by: 'ai-lead', reason: 'go' }],
        });
        const result = await handle.result();
        assert.equal(result.outcome, 'fixed');
        assert.equal(result.after?.avgResponseMs, 250);
        assert.ok(await su.restartedAt(), 'the gateway was restarted');
        assert.equal(await workflowTaskFailures(handle), 0);
        await replayOwnHistory(handle);
      } finally {
        await controller.stop();
      }
    },
  );

  su.suite.test('aiServiceFailuresRemediation refuses them all, then a refusal restarts nothing', async () => {
    await su.freshGateway();
    await su.setCondition('failing');
    const handle = await su.start(aiServiceFailuresRemediation, input);
    await assaultGate(su.suite.env, handle, { gate: 'restart-service', by: 'oncall' });
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'restart-service', decision: 'reject', by: 'oncall', reason: 'provider outage, not ours' }],
    });
    const result = await handle.result();
    assert.equal(result.outcome, 'refused');
    assert.equal(await su.restartedAt(), undefined);
    assert.ok(su.messages().some((t) => /not approved by oncall: provider outage, not ours/.test(t)));
    assert.equal(await workflowTaskFailures(handle), 0);
    await replayOwnHistory(handle);
  });
});

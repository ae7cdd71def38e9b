import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { incidentResponse } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  alertSignal,
  incidentStatusQuery,
  incidentWorkflowId,
  type IncidentStatus,
} from '../../src/workflows/incident/messages';
import { createDeployment, recordRolloutComplete, testCluster, type TestCluster } from '../helpers/kube';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

describe('incidentResponse quick fixes run as child workflows against the API server', () => {
  let cluster: TestCluster;
  const suite = runbookSuite('aiops_test_quick_fix', async () => {
    cluster = await testCluster('aiops-quickfix');
    return { K8S_AI_NAMESPACE: cluster.namespace };
  });
  after(async () => cluster?.destroy());

  async function incidentAtQuickFix(service: string): Promise<WorkflowHandle> {
    const fingerprint = uniqueId('fp');
    const handle = await suite.env.client.workflow.signalWithStart(incidentResponse, {
      taskQueue: suite.taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [{ severity: 'P2', service, summary: `${service} answering 503`, fingerprint }],
      signal: alertSignal,
      signalArgs: [{ summary: `${service} answering 503` }],
    });
    for (const gate of ['acknowledge', 'root-cause']) {
      await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === gate));
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate, decision: 'approve', by: 'oncall', reason: `${gate} done` }],
      });
    }
    await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'quick-fix'));
    return handle;
  }

  const quickFixEvents = (s: IncidentStatus) => s.timeline.filter((e) => e.event.startsWith('quick fix'));

  suite.test('restart-service restarts the deployment and waits for its rollout before monitoring', async () => {
    const name = 'ai-optimization-engine';
    await createDeployment(cluster, name, 2);
    const handle = await incidentAtQuickFix(name);
    await handle.executeUpdate(decideUpdate, {
      args: [
        { gate: 'quick-fix', decision: 'approve', by: 'oncall', reason: 'pods wedged', choice: 'restart-service' },
      ],
    });

    // Play the deployment controller once the restart has been written.
    await waitUntil(
      'the restart annotation',
      async () =>
        (await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace })).spec?.template.metadata
          ?.annotations,
      (annotations) => !!annotations?.['kubectl.kubernetes.io/restartedAt'],
    );
    const child = suite.env.client.workflow.getHandle(`${handle.workflowId}/quick-fix`);
    assert.equal((await child.describe()).type, 'restartDeployment');
    await recordRolloutComplete(cluster, name);

    const s = await queryUntil(handle, incidentStatusQuery, (st) => st.step === 'monitor');
    assert.deepEqual(
      quickFixEvents(s).map((e) => e.event),
      [
        'quick fix: restart-service (oncall: pods wedged)',
        `quick fix restart-service: deployment ${name} restarted; 2/2 replicas available`,
      ],
    );
    await handle.terminate('drill over');
  });

  suite.test('a quick fix that fails is recorded and the incident goes on to monitoring', async () => {
    const name = 'ai-recommendation-engine';
    await createDeployment(cluster, name, 2);
    const handle = await incidentAtQuickFix(name);
    await handle.executeUpdate(decideUpdate, {
      args: [
        { gate: 'quick-fix', decision: 'approve', by: 'oncall', reason: 'bad release', choice: 'rollback-deployment' },
      ],
    });
    const s = await queryUntil(handle, incidentStatusQuery, (st) => st.step === 'monitor', 30_000);
    assert.match(
      quickFixEvents(s).at(-1)!.event,
      /^quick fix rollback-deployment: failed: TargetNotFound: deployment .* has no previous revision to roll back to/,
    );
    await handle.terminate('drill over');
  });
});
